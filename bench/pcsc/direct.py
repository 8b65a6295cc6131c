"""Provides protocol_code_alone: the kiosk's card protocol code timed over a connection that hands each APDU straight to a virtual card."""
from __future__ import annotations

import time

from bench.common import DemoCard, summary
from bench.pcsc.rig import PSAM_PROFILE, check_read, fixed_challenge_card, one_read


def protocol_code_alone(profiles: dict, master_key: bytes | None, demo: DemoCard, reps: int, gap_s: float) -> dict:
    """The kiosk's protocol code alone: the same read_card + verify_pin over a connection that hands each APDU
    straight to a virtual card (no PC/SC, no adapter), minus the time the card and PSAM take to answer."""
    from devices.psam import VirtualPsam, psam_key_holder_factory
    from devices.reader import CardConnection, CardReader
    from devices.service import ReaderCardService

    class Direct(CardConnection):
        def __init__(self, responder) -> None:
            self.responder = responder

        @property
        def atr(self) -> bytes:
            return self.responder.atr or b""

        def transmit(self, command: bytes) -> bytes:
            return self.responder.answer(command)

        def close(self) -> None:
            pass

    class DirectReader(CardReader):
        def __init__(self, responder) -> None:
            super().__init__("direct")
            self.responder = responder

        def card_present(self) -> bool:
            return True

        def connect(self) -> CardConnection:
            self.responder.power_on()
            return Direct(self.responder)

    card = fixed_challenge_card(profiles[demo.profile], master_key)
    psam = VirtualPsam.from_profile(profiles[PSAM_PROFILE])
    answering = [0.0]
    for responder in (card, psam):
        answer = responder.answer

        def timed(command: bytes, answer=answer) -> bytes:
            start = time.perf_counter()
            try:
                return answer(command)
            finally:
                answering[0] += time.perf_counter() - start

        responder.answer = timed
    service = ReaderCardService(DirectReader(card), psam_key_holder_factory(DirectReader(psam)))
    samples = []
    for index in range(reps + 3):
        time.sleep(gap_s)
        answering[0] = 0.0
        elapsed, guardian, result = one_read(service)
        check_read(guardian, result, demo)
        service.release()
        if index >= 3:
            samples.append(elapsed - answering[0])
    return summary(samples)
