"""The patron account: the unprivileged account a public PC's kiosk session runs as."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import server

from deploy.defaults import DEFAULTS


@deploy("Patron account", data_defaults=DEFAULTS)
def patron_account():
    """Ensure the patron account exists with no password and no supplementary groups.

    Inventory: ``public_pc__patron_user`` (login name). ``useradd`` leaves the password locked
    (``!`` in /etc/shadow), so the account cannot log in with a password; ``groups=[]`` without
    ``append`` removes it from any group (sudo, adm) someone added it to.
    """
    user = host.data.public_pc__patron_user
    server.user(
        name=f"Patron account {user}: no password, no admin groups",
        user=user,
        home=f"/home/{user}",
        shell="/bin/bash",
        create_home=True,
        groups=[],
        append=False,
    )
