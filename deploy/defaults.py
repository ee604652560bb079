"""The public-PC deploy's settings with their defaults: the one owner of each ``public_pc__*``
default.

Every ``@deploy`` of this package passes ``data_defaults=DEFAULTS`` (pyinfra's way: a value the
host's inventory data sets wins over a deploy's ``data_defaults``; docs.pyinfra.com, "Writing
Deploys"). Validation (:mod:`libraryops.validation.public_pcs`), the pipeline, the testinfra
suites and the bench read the defaults from here. It imports nothing, so the controller and the
bench's Ansible filters load it without pyinfra.

Types and ranges are validation's (``PublicPcModel``); what each setting does is said beside
it here and in the docstring of the deploy that reads it.
"""

DEFAULTS: dict[str, object] = {
    # the patron's login name (no password; the kiosk session logs it in)
    "public_pc__patron_user": "patron",
    # minutes without input before the session ends (and is reset), and the on-screen warning
    "public_pc__idle_logout_minutes": 20,
    "public_pc__idle_warning_seconds": 60,
    # seconds a patron is warned before an urgent update (``Urgent:`` trailer) ends the session
    "public_pc__urgent_warning_seconds": 300,
    # firefox-esr policy lists (URL patterns)
    "public_pc__browser_allow_urls": [],
    "public_pc__browser_block_urls": [],
    # USB mass storage: allowed (the reset wipes copies in home) or blocked (udev rule)
    "public_pc__usb_storage": "allowed",
    # the CUPS queue name of the branch's print-release station
    "public_pc__print_queue_name": "release",
    # the patron may power the PC off from the session
    "public_pc__patron_can_power_off": False,
    # the X server the kiosk session starts
    "public_pc__xserver_packages": ["xserver-xorg-core", "xserver-xorg-input-libinput",
                                    "xserver-xorg-video-all"],
    "public_pc__xserver_command": "",
    "public_pc__lab_no_vt": False,
    # act on the power schedule, or only log what it would do (the lab)
    "public_pc__power_actions": "act",
}
