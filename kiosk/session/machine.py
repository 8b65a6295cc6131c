"""Provides the kiosk session: the event-driven state machine of one guardian's visit, driven by UI and tests."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Callable, Mapping

from kiosk.domain import ECardState, PinStatus
from kiosk.eligibility import EligibilityFacts, Region, evaluate
from kiosk.errors import CATALOGUE, KioskError
from kiosk.masking import mask_card_number, mask_id, mask_name
from kiosk.ports import CardService, Clock
from kiosk.registry import RegistrationRefused
from kiosk.resident_id import ResidentId, ResidentIdError
from kiosk.session.view import (
    VISIT_STEPS,
    CardView,
    ChildView,
    HolderView,
    PendingView,
    SessionView,
    Step,
    TicketView,
)
from kiosk.session.visit import Visit

if TYPE_CHECKING:
    from kiosk.registry import Registry  # the store itself (SQLAlchemy) loads only where a kiosk opens it

log = logging.getLogger(__name__)

SessionListener = Callable[[SessionView], None]


@dataclass(frozen=True)
class SessionPolicy:
    """The session's knobs, from the settings."""

    kiosk_id: str
    language: str
    activation_url_base: str
    activation_ttl_seconds: int
    activation_max_renewals: int
    idle_timeout_seconds: int
    poll_failures_tolerated: int = 5
    step_idle_seconds: Mapping[str, int] = field(default_factory=dict)  # per step (Step.value), else idle_timeout_seconds
    idle_warning_seconds: int = 30

    def idle_timeout_for(self, step: Step) -> int:
        """Seconds of inactivity `step` allows."""
        return self.step_idle_seconds.get(step.value, self.idle_timeout_seconds)


class KioskSession:
    """One kiosk's session state machine.

    Fast events (`begin`, `card_inserted`, `card_removed`, `confirm_holder`, ...) change the step at
    once. Blocking operations (`read_card`, `submit_pin`, `submit_child_id`, `consent`,
    `poll_activation`, ...) do card or database I/O: call them from a worker thread. A blocking
    operation whose visit ended meanwhile (card pulled, timeout) drops its result.
    Listeners get a new `SessionView` after every change, on the thread that made it.
    """

    def __init__(
        self,
        card: CardService,
        registry: Registry,
        region: Region,
        clock: Clock,
        policy: SessionPolicy,
    ) -> None:
        self._card = card
        self._registry = registry
        self._region = region
        self._clock = clock
        self._policy = policy
        self._lock = threading.RLock()
        self._listeners: list[SessionListener] = []
        self._generation = 0
        self._step = Step.WELCOME
        self._lang = policy.language
        self._visit: Visit | None = None
        self._error: str | None = None
        self._notice: str | None = None
        self._pin_error: str | None = None
        self._child_error: tuple[str, int | None, str | None] | None = None
        self._out_of_service: list[str] = []  # why the kiosk is out of service, first reason first
        self._service_messages: dict[str, str] = {}  # a technician's words for the guardians, by reason
        self._last_activity = clock.now()
        self._published_step = self._step
        self._large_text = False
        self._high_contrast = False

    # ----------------------------------------------------------------- observing
    def subscribe(self, listener: SessionListener) -> None:
        """Call `listener` with the new view after every change."""
        self._listeners.append(listener)

    @property
    def step(self) -> Step:
        return self._step

    @property
    def view(self) -> SessionView:
        """The current picture of the session."""
        with self._lock:
            return self._build_view()

    @property
    def region(self) -> Region:
        return self._region

    @property
    def clock(self) -> Clock:
        return self._clock

    def _build_view(self) -> SessionView:
        visit = self._visit
        view = SessionView(
            step=self._step,
            lang=self._lang,
            error=self._error,
            notice=self._notice,
            out_of_service=self._out_of_service[0] if self._out_of_service else None,
            service_message=next(
                (self._service_messages[r] for r in self._out_of_service if r in self._service_messages), None),
            pin_error=self._pin_error,
            large_text=self._large_text,
            high_contrast=self._high_contrast,
        )
        if self._child_error:
            view = replace(
                view,
                child_id_error=self._child_error[0],
                child_id_error_position=self._child_error[1],
                child_id_reason=self._child_error[2],
            )
        if visit is None:
            return view
        if visit.card is not None:
            issuer = visit.card.issuer
            view = replace(view, card=CardView(
                mask_card_number(issuer.card_number), issuer.spec_version, issuer.expiry_date, issuer.area_code
            ))
        if visit.card is not None and visit.card.holder is not None:
            issuer, holder = visit.card.issuer, visit.card.holder
            view = replace(
                view,
                holder=HolderView(
                    name=mask_name(holder.name),
                    resident_id=mask_id(holder.resident_id),
                    card_number=mask_card_number(issuer.card_number),
                    spec_version=issuer.spec_version,
                    expiry=issuer.expiry_date,
                ),
            )
        child_view = None
        if visit.child is not None and visit.relationship is not None and visit.child_name is not None:
            child_view = ChildView(
                name=mask_name(visit.child_name),
                resident_id=mask_id(visit.child.text),
                age=visit.child.age_on(self._today()),
                sex=visit.child.sex,
                relationship=visit.relationship,
            )
        return replace(
            view,
            pin_tries_left=visit.pin_tries_left,
            child=child_view,
            decision=visit.decision,
            ticket=visit.ticket,
            resumed=visit.decision.resume if visit.decision is not None else False,
            pending=tuple(PendingView(mask_name(name), mask_id(rid)) for rid, name in visit.pending),
        )

    def _publish(self) -> None:
        with self._lock:
            if self._step is not self._published_step:
                # A new step gives the guardian a full idle period, however long the last one took
                # (a slow read, a long scan at the QR code).
                self._published_step = self._step
                self._last_activity = self._clock.now()
            view = self._build_view()
        for listener in list(self._listeners):
            try:
                listener(view)
            except Exception:  # a broken listener must not break the session
                log.exception("session listener failed")

    def _today(self) -> date:
        return self._clock.now().astimezone().date()

    # ----------------------------------------------------------------- small events
    def set_language(self, lang: str) -> None:
        """Switch the language; the step and what was entered stay."""
        with self._lock:
            self._lang = "en" if lang == "en" else "zh"
        self.touch()
        self._publish()

    def set_display(self, *, large_text: bool | None = None, high_contrast: bool | None = None) -> None:
        """Switch large text or high contrast (None leaves it); like the language, they last until the visit ends."""
        with self._lock:
            if large_text is not None:
                self._large_text = large_text
            if high_contrast is not None:
                self._high_contrast = high_contrast
        self.touch()
        self._publish()

    @property
    def policy(self) -> SessionPolicy:
        return self._policy

    def more_time(self) -> None:
        """The guardian asked for more time at the idle warning: the step's full time again (as often as asked)."""
        with self._lock:
            if self._visit is not None:
                self._visit.more_time += 1
            step = self._step
        log.info("more time asked at step %s", step.value)
        self.touch()

    def touch(self) -> None:
        """The guardian did something: restart the idle clock."""
        with self._lock:
            self._last_activity = self._clock.now()

    def idle_seconds_left(self) -> float | None:
        """Seconds before the idle timeout ends the visit; None when nothing waits for the guardian.

        At the welcome screen, a language or display chosen by someone who then walked away
        counts too: it goes back to the kiosk's defaults after the insert-card step's time.
        """
        with self._lock:
            step = self._step
            if step is Step.WELCOME:
                if not self._chosen_at_welcome_locked():
                    return None
                timeout = self._policy.idle_timeout_for(Step.INSERT_CARD)
            elif step not in VISIT_STEPS or step in (Step.ACTIVATION, Step.READING, Step.REGISTERING):
                return None
            else:
                timeout = self._policy.idle_timeout_for(step)
            elapsed = (self._clock.now() - self._last_activity).total_seconds()
            return max(0.0, timeout - elapsed)

    def _chosen_at_welcome_locked(self) -> bool:
        return self._lang != self._policy.language or self._large_text or self._high_contrast

    def check_idle(self) -> bool:
        """End the visit when the guardian has been idle too long. Returns True if it ended it."""
        left = self.idle_seconds_left()
        if left is None or left > 0:
            return False
        with self._lock:
            if self._step is Step.WELCOME:
                self._to_welcome_locked(self._notice)
                at_welcome = True
            else:
                at_welcome = False
        if at_welcome:
            log.info("welcome screen back to the kiosk's language and display after a while without activity")
            self._publish()
            return True
        log.info("session ended: idle timeout at step %s", self._step.value)
        self._audit("session_timeout", f"step={self._step.value}")
        self._end(notice="SESSION_TIMEOUT")
        return True

    def begin(self) -> None:
        """The guardian asked to start at the welcome screen."""
        with self._lock:
            if self._step is not Step.WELCOME:
                return
            self._notice = None
            self._step = Step.INSERT_CARD
            self._visit = Visit()
            self._generation += 1
        self.touch()
        if self._card.card_present():
            self.card_inserted()
            return
        self._publish()

    def card_inserted(self) -> None:
        """A card arrived in the guardian's reader."""
        with self._lock:
            if self._step not in (Step.WELCOME, Step.INSERT_CARD):
                return
            if self._visit is None:
                self._visit = Visit()
                self._generation += 1
            self._notice = None
            self._error = None
            self._step = Step.READING
        self.touch()
        self._publish()

    def card_removed(self) -> None:
        """The card left the reader: the visit ends at once, whatever step it was in."""
        with self._lock:
            step = self._step
            if step is Step.TAKE_CARD:
                self._to_welcome_locked(notice=None)
            elif step not in VISIT_STEPS:
                return
        if step is Step.TAKE_CARD:
            self._publish()
            return
        self._audit("card_removed", f"step={step.value}")
        quiet = step in (Step.ACTIVATED, Step.INSERT_CARD, Step.ERROR)
        self._end(notice=None if quiet else "CARD_REMOVED", card_gone=True)

    def confirm_holder(self) -> None:
        """The guardian confirmed the card shown is theirs."""
        self._advance(Step.HOLDER, Step.PIN)

    def confirm_child(self) -> None:
        """The guardian confirmed the child shown; the decision follows."""
        with self._lock:
            if self._step is not Step.CHILD_CONFIRM or self._visit is None:
                return
            decision = self._visit.decision
            assert decision is not None
            if decision.eligible and decision.resume:
                self._step = Step.REGISTERING
            else:
                self._step = Step.ELIGIBLE if decision.eligible else Step.NOT_ELIGIBLE
        self.touch()
        self._publish()

    def another_child(self) -> None:
        """Go back to the child's ID number (after a decision, a registration, or to correct it)."""
        with self._lock:
            if self._visit is None or not self._visit.pin_verified:
                return
            if self._step not in (Step.CHILD_CONFIRM, Step.ELIGIBLE, Step.NOT_ELIGIBLE, Step.ACTIVATED):
                return
            visit = self._visit
            visit.child = visit.child_name = visit.relationship = visit.decision = None
            visit.child_text = None
            visit.ecard_id = visit.ticket_id = None
            visit.ticket = None
            visit.renewals = 0
            self._child_error = None
            self._step = Step.CHILD_ID
        self.touch()
        self._publish()
        self._refresh_pending()

    def retry(self) -> None:
        """At an error that trying again may cure (retriable in the catalogue), with the card still in: start
        over by reading the card again (a new visit: the PIN is asked again). Otherwise nothing happens."""
        with self._lock:
            if self._step is not Step.ERROR or self._error is None or not CATALOGUE[self._error].retriable:
                return
            if not self._safe_card_present():
                return
            self._visit = Visit()
            self._generation += 1
            self._error = None
            self._pin_error = None
            self._child_error = None
            self._step = Step.READING
        self._audit("retry", "read the card again after an error")
        self.touch()
        self._publish()

    @property
    def error_retriable(self) -> bool:
        """True at an error that `retry` would act on (retriable, card still in)."""
        with self._lock:
            error = self._error if self._step is Step.ERROR else None
        return error is not None and CATALOGUE[error].retriable and self._safe_card_present()

    def finish(self) -> None:
        """The guardian is done (or cancelled): ask for the card back and forget the visit."""
        with self._lock:
            step = self._step
            if step is Step.TAKE_CARD and not self._safe_card_present():
                self._to_welcome_locked(notice=None)
            elif step in (Step.WELCOME, Step.TAKE_CARD, Step.OUT_OF_SERVICE):
                return
            else:
                self._end_locked(notice=None)
        if step not in (Step.WELCOME, Step.TAKE_CARD):
            self._audit("session_finished", f"step={step.value}")
        self._publish()

    def out_of_service(self, reason: str | None, message: str | None = None) -> None:
        """Take the kiosk out of service for `reason` (a catalogued code), or with None back into it whatever the reasons.

        Reasons add up (the reader and the database may both be gone); the kiosk is back in
        service when the last one is cleared (`back_in_service`). `message` is a technician's
        own words for the guardians (shown as typed, in one language), kept until the reason is cleared
        (None keeps the one given before).
        """
        if reason is None:
            self.back_in_service(None)
            return
        with self._lock:
            if self._visit is not None:
                self._end_locked(notice=None)
            if reason not in self._out_of_service:
                self._out_of_service.append(reason)
            if message is not None:  # a new message replaces the last; an empty one withdraws it
                if message.strip():
                    self._service_messages[reason] = message.strip()
                else:
                    self._service_messages.pop(reason, None)
            self._step = Step.OUT_OF_SERVICE
        self._publish()

    def back_in_service(self, reason: str | None) -> None:
        """`reason` is over (None: every reason is); with none left the kiosk greets the next guardian."""
        with self._lock:
            if reason is None:
                self._out_of_service.clear()
                self._service_messages.clear()
            elif reason in self._out_of_service:
                self._out_of_service.remove(reason)
                self._service_messages.pop(reason, None)
            else:
                return
            if self._out_of_service or self._step is not Step.OUT_OF_SERVICE:
                publish = bool(self._out_of_service)
            else:
                self._step = Step.WELCOME
                publish = True
        if publish:
            self._publish()

    @property
    def out_of_service_reasons(self) -> tuple[str, ...]:
        """Why the kiosk is out of service now (empty: it is in service)."""
        with self._lock:
            return tuple(self._out_of_service)

    def set_region(self, region: Region) -> None:
        """Use new regional rules from the next decision on (a corrected or updated rule file)."""
        with self._lock:
            self._region = region
        self._publish()

    # ----------------------------------------------------------------- blocking operations
    def read_card(self) -> None:
        """Read the card (blocking); then the holder, or why the visit cannot go on."""
        with self._lock:
            if self._step is not Step.READING:
                return
            generation = self._generation
        try:
            card = self._card.read_card()
            status = self._registry.card_status(card.issuer.card_number) if card.holder else None
        except KioskError as exc:
            self._fail(generation, exc)
            return
        with self._lock:
            if generation != self._generation or self._visit is None:
                return
            visit = self._visit
            visit.card, visit.card_status = card, status
            log.info("card read: version %s, card %s, %d APDUs", card.issuer.spec_version,
                     mask_card_number(card.issuer.card_number), card.apdu_count)
            if card.holder is None:
                self._error = "CARD_NEEDS_PSAM"
                self._step = Step.ERROR
            else:
                decision = evaluate(self._facts(), self._region, "card")
                visit.decision = None if decision.eligible else decision
                self._step = Step.HOLDER if decision.eligible else Step.NOT_ELIGIBLE
        self._audit("card_read", f"card={mask_card_number(card.issuer.card_number)} version={card.issuer.spec_version}")
        self._publish()

    def check_pin_tries(self) -> None:
        """On reaching the PIN step, ask the card its try counter (blocking) so the guardian is warned
        before the last try, and a blocked card is told before anything is typed."""
        with self._lock:
            if self._step is not Step.PIN or self._visit is None or self._visit.pin_tries_left is not None:
                return
            generation = self._generation
        try:
            tries = self._card.pin_tries_left()
        except KioskError as exc:
            if exc.code in ("CARD_REMOVED", "READER_LOST", "READER_UNAVAILABLE"):
                self._fail(generation, exc)
            else:  # only advice: the PIN can still be tried, with the counter unknown
                log.warning("PIN try counter unavailable: %s %s", exc.code, exc.detail)
            return
        with self._lock:
            if generation != self._generation or self._visit is None or self._step is not Step.PIN:
                return
            self._visit.pin_tries_left = tries
            if tries == 0:
                self._error = "PIN_BLOCKED"
                self._step = Step.ERROR
        self._publish()

    def submit_pin(self, pin: str) -> None:
        """Check the PIN with the card (blocking). A pulled card ends the visit and costs no try."""
        with self._lock:
            if self._step is not Step.PIN:
                return
            generation = self._generation
        self.touch()
        if not (len(pin) == 6 and pin.isascii() and pin.isdigit()):
            with self._lock:
                self._pin_error = "PIN_FORMAT"
            self._publish()
            return
        try:
            result = self._card.verify_pin(pin)
        except KioskError as exc:
            if exc.code == "PIN_FORMAT":
                with self._lock:
                    self._pin_error = "PIN_FORMAT"
                self._publish()
                return
            self._fail(generation, exc)
            return
        finally:
            del pin
        with self._lock:
            if generation != self._generation or self._visit is None:
                return
            visit = self._visit
            visit.pin_tries_left = result.tries_left
            if result.status is PinStatus.VERIFIED:
                visit.pin_verified = True
                self._pin_error = None
                self._step = Step.CHILD_ID
            elif result.status is PinStatus.BLOCKED:
                self._pin_error = None
                self._error = "PIN_BLOCKED"
                self._step = Step.ERROR
            else:
                self._pin_error = "PIN_WRONG"
        self._audit("pin_" + result.status.value, f"tries_left={result.tries_left}")
        self._publish()
        if result.status is PinStatus.VERIFIED:
            self._refresh_pending()

    def submit_child_id(self, text: str) -> None:
        """Check the child's ID number and look the child up (blocking: database)."""
        with self._lock:
            if self._step is not Step.CHILD_ID or self._visit is None:
                return
            generation = self._generation
        self.touch()
        try:
            child = ResidentId.parse(text, today=self._today())
        except ResidentIdError as exc:
            with self._lock:
                self._child_error = ("CHILD_ID_FORMAT", exc.position, exc.reason.value)
            self._publish()
            return
        try:
            child_name, child_facts = self._child_facts(child)
        except KioskError as exc:
            self._fail(generation, exc)
            return
        with self._lock:
            if generation != self._generation or self._visit is None:
                return
            visit = self._visit
            self._child_error = None
            visit.child_text = child.text
            visit.child = child
            visit.child_name, visit.relationship = child_name, child_facts["relationship"]
            decision = evaluate(self._facts(child_facts), self._region, "child")
            visit.decision = decision
            unknown = {f.code for f in decision.failures} & {"CHILD_UNKNOWN", "NOT_GUARDIAN"}
            self._step = Step.NOT_ELIGIBLE if unknown else Step.CHILD_CONFIRM
            codes = ",".join(f.code for f in decision.failures) or "eligible"
        self._audit("child_checked", f"child={mask_id(child.text)} decision={codes} resume={decision.resume}")
        self._publish()

    def consent(self) -> None:
        """The guardian agreed: register the e-card and show its activation code (blocking: database)."""
        with self._lock:
            if self._step not in (Step.ELIGIBLE, Step.REGISTERING) or self._visit is None:
                return
            self._step = Step.REGISTERING
            generation = self._generation
            visit = self._visit
            assert visit.card is not None and visit.card.holder is not None and visit.child is not None
            guardian, child = visit.card.holder.resident_id, visit.child.text
        self._publish()
        try:
            ecard_id = self._registry.register_ecard(guardian, child, self._policy.kiosk_id)
        except KioskError as exc:
            self._fail(generation, exc)
            return
        except RegistrationRefused as exc:
            self._decide_again(generation, child, exc)
            return
        self._issue_ticket(generation, ecard_id)

    def resume_pending(self, index: int) -> None:
        """Continue a registration of this guardian that is still waiting for activation."""
        with self._lock:
            if self._step is not Step.CHILD_ID or self._visit is None:
                return
            if not 0 <= index < len(self._visit.pending):
                return
            rid = self._visit.pending[index][0]
        self.submit_child_id(rid)
        with self._lock:
            ready = self._step is Step.CHILD_CONFIRM
        if ready:
            self.confirm_child()
            self.resume()

    def resume(self) -> None:
        """Issue a fresh QR for the pending e-card of the child on screen (blocking: database)."""
        with self._lock:
            if self._step is not Step.REGISTERING or self._visit is None or self._visit.child is None:
                return
            generation = self._generation
            child = self._visit.child.text
        try:
            current = self._registry.child_ecard(child)
        except KioskError as exc:
            self._fail(generation, exc)
            return
        if current is None or current.state is not ECardState.PENDING:
            self._decide_again(generation, child, None)
            return
        self._audit("ecard_resumed", f"ecard={current.ecard_id}")
        self._issue_ticket(generation, current.ecard_id)

    def poll_activation(self) -> None:
        """Look whether the guardian's app activated the e-card; renew an expired QR (blocking: database)."""
        with self._lock:
            if self._step is not Step.ACTIVATION or self._visit is None or self._visit.ticket_id is None:
                return
            generation = self._generation
            ticket_id, ecard_id = self._visit.ticket_id, self._visit.ecard_id
        try:
            state = self._registry.ticket_state(ticket_id)
        except KioskError as exc:
            with self._lock:
                if self._visit is None or generation != self._generation:
                    return
                self._visit.poll_failures += 1
                failures = self._visit.poll_failures
            if failures >= self._policy.poll_failures_tolerated:
                self._fail(generation, exc)
            return
        with self._lock:
            if generation != self._generation or self._visit is None:
                return
            self._visit.poll_failures = 0
            if state == "activated":
                self._step = Step.ACTIVATED
            renew = state in ("expired", "revoked")
            renewals = self._visit.renewals
        if state == "activated":
            self._publish()
        elif renew:
            if renewals >= self._policy.activation_max_renewals:
                self._audit("activation_abandoned", f"ecard={ecard_id}")
                self._end(notice="SESSION_TIMEOUT")
                return
            with self._lock:
                assert self._visit is not None
                self._visit.renewals += 1
            assert ecard_id is not None
            self._issue_ticket(generation, ecard_id)

    # ----------------------------------------------------------------- internals
    def _advance(self, expected: Step, to: Step) -> None:
        with self._lock:
            if self._step is not expected:
                return
            self._step = to
        self.touch()
        self._publish()

    def _issue_ticket(self, generation: int, ecard_id: int) -> None:
        try:
            ticket = self._registry.issue_ticket(
                ecard_id, self._policy.activation_url_base, self._policy.activation_ttl_seconds
            )
        except KioskError as exc:
            self._fail(generation, exc)
            return
        except (RegistrationRefused, LookupError) as exc:
            with self._lock:
                child = self._visit.child.text if self._visit is not None and self._visit.child else None
            if child is not None:
                self._decide_again(generation, child, exc)
            return
        with self._lock:
            if generation != self._generation or self._visit is None:
                return
            visit = self._visit
            visit.ecard_id = ecard_id
            visit.ticket_id = ticket.ticket_id
            visit.ticket = TicketView(ticket.user_code, ticket.url, ticket.expires_at, visit.renewals)
            self._step = Step.ACTIVATION
        self._publish()

    def _decide_again(self, generation: int, child: str, reason: Exception | None) -> None:
        """The registry changed under the visit (another kiosk, the app): decide from what it says now."""
        log.info("registry changed during the visit, deciding again: %s", reason)
        with self._lock:
            if generation != self._generation or self._visit is None:
                return
            visit = self._visit
            visit.ecard_id = visit.ticket_id = None
            visit.ticket = None
            visit.renewals = 0
            self._step = Step.CHILD_ID
        self.submit_child_id(child)

    def _refresh_pending(self) -> None:
        with self._lock:
            if self._visit is None or self._visit.card is None or self._visit.card.holder is None:
                return
            generation = self._generation
            guardian = self._visit.card.holder.resident_id
        try:
            pending = self._registry.pending_for_guardian(guardian)
        except KioskError as exc:
            log.warning("pending registrations unavailable: %s", exc)
            return
        with self._lock:
            if generation != self._generation or self._visit is None:
                return
            self._visit.pending = [(p.child_resident_id, p.child_name) for p in pending]
        self._publish()

    def _child_facts(self, child: ResidentId) -> tuple[str | None, dict[str, object]]:
        """Look the child up (blocking: database). Returns the name on record and the child's facts."""
        with self._lock:
            visit = self._visit
            assert visit is not None and visit.card is not None and visit.card.holder is not None
            guardian = visit.card.holder.resident_id
        person = self._registry.find_person(child.text)
        relationship = self._registry.relationship(guardian, child.text) if person else None
        ecard = self._registry.child_ecard(child.text) if person else None
        used = self._registry.guardian_children_with_ecards(guardian, child.text)
        return person.name if person else None, {
            "child_known": person is not None,
            "relationship": relationship,
            "child_ecard_state": ecard.state if ecard else None,
            "child_ecard_pending_by_this_guardian": bool(ecard and ecard.applicant_resident_id == guardian),
            "guardian_children_with_ecards": used,
            "child_has_physical_card": bool(person and person.has_physical_card),
        }

    def _facts(self, child: dict[str, object] | None = None) -> EligibilityFacts:
        """The facts as the visit knows them; `child` adds what the registry says of the child."""
        visit = self._visit
        assert visit is not None
        extra: dict = child or {}
        return EligibilityFacts(
            today=self._today(),
            card=visit.card,
            card_readable=visit.card is not None and visit.card.holder is not None,
            is_social_security_card=visit.card is not None,
            card_status=visit.card_status,
            pin_verified=visit.pin_verified,
            child_id_text=visit.child_text,
            child_id=visit.child,
            child_known=extra.get("child_known", False),
            relationship=extra.get("relationship"),
            child_ecard_state=extra.get("child_ecard_state"),
            child_ecard_pending_by_this_guardian=extra.get("child_ecard_pending_by_this_guardian", False),
            guardian_children_with_ecards=extra.get("guardian_children_with_ecards", 0),
            child_has_physical_card=extra.get("child_has_physical_card", False),
        )

    def _fail(self, generation: int, exc: KioskError) -> None:
        """A blocking operation failed: a pulled card ends the visit; other failures show their error."""
        with self._lock:
            if generation != self._generation:
                return
        log.warning("session step %s failed: %s %s", self._step.value, exc.code, exc.detail)
        if exc.code == "CARD_REMOVED":
            self._audit("card_removed", f"step={self._step.value}")
            self._end(notice="CARD_REMOVED", card_gone=True)
            return
        if exc.code in ("READER_LOST", "READER_UNAVAILABLE"):
            self._audit("reader_lost", exc.detail)
            self._end(notice=exc.code, card_gone=True)
            return
        with self._lock:
            self._error = exc.code
            self._step = Step.ERROR
        if exc.code != "DATABASE_UNAVAILABLE":
            self._audit("error", f"code={exc.code}")
        self._publish()

    def _end(self, notice: str | None, card_gone: bool = False) -> None:
        with self._lock:
            self._end_locked(notice, card_gone)
        self._publish()

    def _end_locked(self, notice: str | None, card_gone: bool = False) -> None:
        """Forget the visit: personal data leaves memory; ask for the card if it is still in."""
        self._generation += 1
        self._visit = None
        self._pin_error = None
        self._child_error = None
        self._error = None
        self._notice = notice
        try:
            self._card.release()
        except Exception:  # releasing a dead card must not stop the wipe
            log.exception("card release failed")
        present = False if card_gone else self._safe_card_present()
        if self._step is Step.OUT_OF_SERVICE:
            return
        if present:
            self._step = Step.TAKE_CARD
        else:
            self._to_welcome_locked(notice)

    def _to_welcome_locked(self, notice: str | None) -> None:
        """Back to the welcome screen, in the kiosk's own language for whoever comes next."""
        self._step = Step.WELCOME
        self._notice = notice
        self._lang = self._policy.language
        self._large_text = self._high_contrast = False

    def _safe_card_present(self) -> bool:
        try:
            return self._card.card_present()
        except Exception:
            return False

    def _audit(self, kind: str, detail: str) -> None:
        try:
            self._registry.audit(kind, detail)
        except KioskError as exc:
            log.warning("audit event %s not written: %s", kind, exc.detail)
