"""First-party helpers shared by the three apps of e2e/sharing."""

import attr
import colorama
import idna
import six


@attr.s(frozen=True)
class Greeting:
    who = attr.ib()
    host = attr.ib()

    def render(self):
        return "%s%s from %s%s" % (
            colorama.Style.BRIGHT,
            six.ensure_text(self.who),
            idna.decode(idna.encode(self.host)),
            colorama.Style.RESET_ALL,
        )
