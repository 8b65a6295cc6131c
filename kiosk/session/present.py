"""Provides `present`: the masked, immutable picture (SessionView) of a session state that screens and scripts see."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from kiosk.masking import mask_card_number, mask_id, mask_name
from kiosk.session.state import SessionPolicy, SessionState
from kiosk.session.steps import STEPS, allowed_actions
from kiosk.session.view import CardView, ChildChoice, ChildView, HolderView, PendingView, SessionView, Step


def present(state: SessionState, policy: SessionPolicy, today: date) -> SessionView:
    """The view of `state`: personal data masked, the actions allowed now, the step's stage."""
    messages = dict(state.service_messages)
    if state.lang == "en":
        messages.update(state.service_messages_en)
    view = SessionView(
        step=state.step,
        lang=state.lang,
        error=state.error,
        notice=state.notice,
        out_of_service=state.out_of_service[0] if state.out_of_service else None,
        service_message=next((messages[r] for r in state.out_of_service if r in messages), None),
        pin_error=state.pin_error,
        large_text=state.large_text,
        high_contrast=state.high_contrast,
        actions=allowed_actions(state, policy),
        stage=_stage(state),
        age_limit=state.region.age_limit if state.region is not None else None,
    )
    if state.child_error:
        code, position, reason = state.child_error
        view = replace(view, child_id_error=code, child_id_error_position=position, child_id_reason=reason)
    visit = state.visit
    if visit is None:
        return view
    if visit.card is not None:
        issuer = visit.card.issuer
        view = replace(view, card=CardView(
            mask_card_number(issuer.card_number), issuer.spec_version, issuer.expiry_date, issuer.area_code
        ))
        if visit.card.holder is not None:
            holder = visit.card.holder
            view = replace(view, holder=HolderView(
                name=mask_name(holder.name),
                resident_id=mask_id(holder.resident_id),
                card_number=mask_card_number(issuer.card_number),
                spec_version=issuer.spec_version,
                expiry=issuer.expiry_date,
            ))
    child_view = None
    if visit.child is not None and visit.relationship is not None and visit.child_name is not None:
        child_view = ChildView(
            name=mask_name(visit.child_name),
            resident_id=mask_id(visit.child.text),
            age=visit.child.age_on(today),
            sex=visit.child.sex,
            relationship=visit.relationship,
        )
    return replace(
        view,
        pin_tries_left=visit.pin_tries_left,
        pin_pad=visit.pin_pad,
        child=child_view,
        decision=visit.decision,
        ticket=visit.ticket,
        resumed=visit.resumed or (visit.decision.resume if visit.decision is not None else False),
        pending=tuple(PendingView(name, masked_id) for _ecard, name, masked_id in visit.pending),  # masked by the registry
        children=_children(visit.children) if visit.pin_verified else None,
        child_typing=visit.child_typing or visit.children == (),
    )


def _stage(state: SessionState) -> int | None:
    """The step indicator's stage: the step's own, except for a refusal of the card itself (expired, lost),
    which comes straight after reading: the PIN and child stages were never reached, so none shows as done."""
    stage = STEPS[state.step].stage
    if state.step is Step.NOT_ELIGIBLE and (state.visit is None or not state.visit.pin_verified):
        return 0
    return stage


def _children(children: tuple | None) -> tuple[ChildChoice, ...] | None:
    # The registry's summaries come masked; the full ID number each carries never reaches the view.
    if children is None:
        return None
    return tuple(ChildChoice(c.masked_name, c.masked_id, c.birth_year,
                             c.ecard_state.value if c.ecard_state is not None else None) for c in children)
