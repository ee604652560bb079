"""Time (role timesync): at least one NTP server, an address or host name (local in the lab).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from libraryops.validation.base import model_checker
from libraryops.validation.values import Server


class TimesyncModel(BaseModel):
    """``timesync__ntp_servers`` (role timesync)."""

    timesync__ntp_servers: list[Server] = Field(
        min_length=1, description="a list of NTP server addresses or host names, at least one")



check_timesync = model_checker(TimesyncModel, "timesync.yml")
