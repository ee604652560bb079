"""Public PCs: the patron kiosk. One @deploy per concern, in dependency order.

Run by ``make converge`` / ``make lab`` with ``--limit public_pcs``; hosts outside
``public_pcs`` are skipped here too.
"""

from pyinfra import host

from deploy.browser import browser_lockdown
from deploy.devices import accessibility, print_queue, usb_storage
from deploy.idle import idle_logout
from deploy.kiosk import kiosk_session
from deploy.packages import refresh_index
from deploy.patron import patron_account
from deploy.power import power_schedule
from deploy.record import converged_record
from deploy.reset import session_reset

if "public_pcs" in host.groups:
    refresh_index()
    patron_account()
    session_reset()
    browser_lockdown()
    print_queue()
    accessibility()
    usb_storage()
    kiosk_session()
    idle_logout()
    power_schedule()
    converged_record()  # last: only a PC on which every operation succeeded
