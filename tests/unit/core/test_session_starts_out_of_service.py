"""A session made out of service (a kiosk on the registry service, before its monitor found it) is the session that
out_of_service() would have made, and comes back into service the same way."""
from __future__ import annotations

from kiosk import CONFIG_DIR
from kiosk.eligibility import load_region
from kiosk.health import SERVICE_UNREACHABLE
from kiosk.session import KioskSession, SessionPolicy, Step


class _NoCard:
    """A reader slot with no card: these sessions never see one."""

    def card_present(self) -> bool:
        return False

    def release(self) -> None:
        pass


def _session(demo_registry, clock, **kwargs) -> KioskSession:
    return KioskSession(_NoCard(), demo_registry, load_region(CONFIG_DIR / "regions" / "default.toml"), clock,  # type: ignore[arg-type]
                        SessionPolicy("TEST-KIOSK", "zh", "https://ecard.example.gov.cn/activate", 300, 3, 90),
                        **kwargs)


def test_made_out_of_service_it_is_what_out_of_service_makes(demo_registry, clock) -> None:
    made = _session(demo_registry, clock, out_of_service=(SERVICE_UNREACHABLE,))
    told = _session(demo_registry, clock)
    told.out_of_service(SERVICE_UNREACHABLE)
    assert made.view == told.view
    assert made.view.step is Step.OUT_OF_SERVICE and made.out_of_service_reasons == (SERVICE_UNREACHABLE,)


def test_made_out_of_service_it_comes_back_as_any_other(demo_registry, clock) -> None:
    made = _session(demo_registry, clock, out_of_service=(SERVICE_UNREACHABLE, "READER_UNAVAILABLE", SERVICE_UNREACHABLE))
    assert made.out_of_service_reasons == (SERVICE_UNREACHABLE, "READER_UNAVAILABLE")  # each reason once, in order
    made.back_in_service(SERVICE_UNREACHABLE)
    assert made.view.step is Step.OUT_OF_SERVICE and made.out_of_service_reasons == ("READER_UNAVAILABLE",)
    made.back_in_service("READER_UNAVAILABLE")
    assert made.view.step is Step.WELCOME and made.out_of_service_reasons == ()


def test_made_in_service_it_greets(demo_registry, clock) -> None:
    assert _session(demo_registry, clock).view.step is Step.WELCOME
