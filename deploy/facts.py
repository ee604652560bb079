"""pyinfra facts the public-PC deploys need that pyinfra does not ship."""

from pyinfra.api import FactBase


class CupsQueues(FactBase):
    """CUPS queues and their device URIs, from ``lpstat -v`` (lpstat(1)).

    Returns ``{queue name: device URI}``; empty when CUPS is not installed yet.
    """

    default = dict

    def command(self) -> str:
        """Shell command run on the host."""
        return "LC_ALL=C lpstat -v 2>/dev/null || true"

    def process(self, output):
        """Parse lpstat's lines into ``{queue: uri}``."""
        queues = {}
        for line in output:
            # "device for release: ipp://10.123.0.1:8631/ipp/print"
            if line.startswith("device for ") and ": " in line:
                name, _, uri = line[len("device for "):].partition(": ")
                queues[name] = uri.strip()
        return queues


class CupsDefaultQueue(FactBase):
    """The system default CUPS destination from ``lpstat -d``, or None."""

    def command(self) -> str:
        """Shell command run on the host."""
        return "LC_ALL=C lpstat -d 2>/dev/null || true"

    def process(self, output):
        """The destination name, or None when there is no default."""
        for line in output:
            if line.startswith("system default destination: "):
                return line.split(": ", 1)[1].strip()
        return None
