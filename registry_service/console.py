"""Provides the operator console under /console: every kiosk's colour at a glance, out-of-service orders, audit, activations."""
from __future__ import annotations

# Server-rendered HTML, Chinese first (?lang=en switches, a cookie keeps it), big targets and a
# grid that reflows on a tablet, and one small inline script: it fetches /console/fleet every
# console_refresh_seconds and swaps the kiosk list in place (no page reload, no framework).
# Every value from a request or the database goes through html.escape.
# Sessions: the cookie holds a random token (its SHA-256 in operator_session), HttpOnly, SameSite=Strict,
# Secure when console_secure_cookie says. Every form carries the session's CSRF token (the sign-in
# form a double-submit one, as there is no session yet); a POST without it, or with another, is a 403
# page that says so. Every action goes into the audit log with the operator's ID.

import html
import re
import secrets
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiosk.masking import mask_id, mask_name, scrub
from registry_service.console_text import words
from registry_service.credentials import KIOSK_ID_PATTERN
from registry_service.deps import ServiceDep
from registry_service.fleet import COLOURS, KioskStatus
from registry_service.operators import SignedIn
from registry_service.service import Service
from registry_service.wire import MAX_ID

PREFIX = "/console"
SESSION_COOKIE = "ecard_console"
SIGN_IN_COOKIE = "ecard_console_csrf"
LANG_COOKIE = "ecard_console_lang"
MESSAGE_LENGTH = 200
router = APIRouter(prefix=PREFIX, include_in_schema=False)
KioskPath = Annotated[str, Path(pattern=KIOSK_ID_PATTERN, max_length=40)]
_PLAIN = re.compile(r"^[^\x00-\x1f\x7f\ud800-\udfff]+$")

_STYLE = """*{box-sizing:border-box}body{font-family:"Noto Sans CJK SC",sans-serif;margin:0;padding:1rem;font-size:1.1rem;
background:#f4f5f7;color:#111}header{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;margin-bottom:1rem}
header h1{font-size:1.4rem;margin:0 auto 0 0}a.button,button{display:inline-flex;align-items:center;justify-content:center;
min-height:3rem;min-width:3rem;padding:0 1rem;font-size:1.1rem;border-radius:.5rem;border:0;background:#0a66c2;color:#fff;
text-decoration:none;cursor:pointer}button.quiet,a.quiet{background:#dde3ea;color:#111}button.danger{background:#b42318}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(17rem,1fr));gap:.8rem}
.kiosk{display:block;background:#fff;border-radius:.6rem;padding:.8rem 1rem;color:inherit;text-decoration:none;
border-left:.7rem solid #999;min-height:7rem}.kiosk h2{font-size:1.2rem;margin:0 0 .3rem;display:flex;justify-content:space-between}
.green{border-color:#1a7f37}.amber{border-color:#d4a017}.red{border-color:#b42318}.badge{font-size:.95rem;padding:.1rem .5rem;
border-radius:1rem;color:#fff}.green .badge,.badge.green{background:#1a7f37}.amber .badge,.badge.amber{background:#9a6700}
.red .badge,.badge.red{background:#b42318}.small{font-size:.95rem;color:#444;margin:.15rem 0}
.note{padding:1rem;border-radius:.5rem;background:#e7f0fb;margin:1rem 0}.refused{background:#fde8e8}
form.stack{display:grid;gap:.6rem;max-width:36rem}input,textarea{font-size:1.1rem;min-height:3rem;padding:.5rem;width:100%}
table{border-collapse:collapse;width:100%;background:#fff}td,th{padding:.5rem;border-bottom:1px solid #ddd;text-align:left;
vertical-align:top}dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem;background:#fff;padding:1rem;border-radius:.6rem}
dt{color:#555}@media (max-width:40rem){body{padding:.5rem}td,th{display:block;border:0}tr{border-bottom:1px solid #ccc;display:block}}"""


# ---------------------------------------------------------------- page frame
def _lang(request: Request, lang: str | None) -> str:
    chosen = lang if lang in ("zh", "en") else request.cookies.get(LANG_COOKIE)
    return "en" if chosen == "en" else "zh"


def _page(request: Request, lang: str, body: str, *, status: int = 200, signed_in: SignedIn | None = None,
          script: str = "") -> HTMLResponse:
    w, e = words(lang), html.escape
    other = "en" if lang == "zh" else "zh"
    tools = ""
    if signed_in is not None:
        tools = (f'<a class="button quiet" href="{PREFIX}">{w["fleet"]}</a>'
                 f'<a class="button quiet" id="nav-activations" href="{PREFIX}/activations">{w["activations"]}</a>'
                 f'<form method="post" action="{PREFIX}/sign-out">{_csrf_field(signed_in.csrf)}'
                 f'<button class="quiet" id="sign-out" type="submit">{w["sign_out"]} ({e(signed_in.operator_id)})</button></form>')
    document = (f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{w["title"]}</title>'
                f'<style>{_STYLE}</style></head><body><header><h1>{w["title"]}</h1>{tools}'
                f'<a class="button quiet" id="lang" href="?lang={other}">{w["switch"]}</a></header>{body}{script}</body></html>')
    response = HTMLResponse(document, status_code=status, headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
        "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                                   "frame-ancestors 'none'; form-action 'self'"})
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, path=PREFIX, samesite="strict", max_age=365 * 86400)
    return response


def _note(text: str, outcome: str, refused: bool = False) -> str:
    return (f'<p id="outcome" data-outcome="{html.escape(outcome)}" class="note{" refused" if refused else ""}">'
            f'{html.escape(text)}</p>')


def _csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{html.escape(token)}">'


def _refused_csrf(request: Request, lang: str) -> HTMLResponse:
    return _page(request, lang, _note(words(lang)["csrf"], "csrf", True)
                 + f'<p><a class="button" href="{PREFIX}">{words(lang)["back"]}</a></p>', status=403)


def _signed_in(state: Service, request: Request) -> SignedIn | None:
    return state.operators.session(request.cookies.get(SESSION_COOKIE))


def _to_sign_in() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/sign-in?expired=1", status_code=303)


def _csrf_ok(signed_in: SignedIn, csrf: str) -> bool:
    return bool(csrf) and secrets.compare_digest(signed_in.csrf.encode(), csrf.encode())


def _form_operator(state: Service, request: Request, csrf: str) -> SignedIn | Response:
    """The operator who posted a console form, or the answer to give instead: to the sign-in page without a live
    session, the 403 page when the form's CSRF token is not the session's."""
    signed_in = _signed_in(state, request)
    if signed_in is None:
        return _to_sign_in()
    if not _csrf_ok(signed_in, csrf):
        return _refused_csrf(request, _lang(request, None))
    return signed_in


def _audit(state: Service, who: str, kind: str, detail: str = "", kiosk_id: str = "") -> None:
    state.registry.audit(kind, f"operator={who} {detail}".strip(), kiosk_id=kiosk_id)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


# ---------------------------------------------------------------- sign-in
@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, lang: Annotated[str | None, Query(max_length=4)] = None,
                 expired: Annotated[str | None, Query(max_length=4)] = None) -> HTMLResponse:
    lang = _lang(request, lang)
    token = secrets.token_urlsafe(24)
    note = _note(words(lang)["expired"], "expired") if expired else ""
    response = _page(request, lang, note + _sign_in_form(lang, token))
    response.set_cookie(SIGN_IN_COOKIE, token, path=PREFIX, httponly=True, samesite="strict")
    return response


def _sign_in_form(lang: str, token: str) -> str:
    w = words(lang)
    return (f'<form class="stack" method="post" action="{PREFIX}/sign-in"><h2>{w["sign_in"]}</h2>{_csrf_field(token)}'
            f'<label>{w["operator_id"]}<input name="operator_id" id="operator-id" autocomplete="username" maxlength="40" '
            f'required></label><label>{w["password"]}<input type="password" name="password" id="password" '
            f'autocomplete="current-password" maxlength="128" required></label>'
            f'<button id="sign-in" type="submit">{w["sign_in_button"]}</button></form>')


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, state: ServiceDep, csrf: Annotated[str, Form(max_length=100)] = "",
            operator_id: Annotated[str, Form(max_length=100)] = "",
            password: Annotated[str, Form(max_length=200)] = "") -> Response:
    lang = _lang(request, None)
    cookie = request.cookies.get(SIGN_IN_COOKIE, "")
    if not cookie or not csrf or not secrets.compare_digest(cookie.encode(), csrf.encode()):
        return _refused_csrf(request, lang)
    operator_id = operator_id.strip()
    answer = state.operators.sign_in(operator_id, password)
    shown = scrub(operator_id[:40])
    _audit(state, shown, f"console_sign_in_{answer.outcome}")
    if answer.outcome != "signed_in":
        w, token = words(lang), secrets.token_urlsafe(24)
        text = w["locked"] if answer.outcome == "locked" else w["wrong"].format(tries=answer.tries_left)
        response = _page(request, lang, _note(text, answer.outcome, True) + _sign_in_form(lang, token), status=401)
        response.set_cookie(SIGN_IN_COOKIE, token, path=PREFIX, httponly=True, samesite="strict")
        return response
    response = RedirectResponse(PREFIX, status_code=303)
    response.set_cookie(SESSION_COOKIE, answer.token, path=PREFIX, httponly=True, samesite="strict",
                        secure=state.settings.console_secure_cookie, max_age=state.settings.console_session_seconds)
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
def sign_out(request: Request, state: ServiceDep, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    signed_in = _form_operator(state, request, csrf)
    if isinstance(signed_in, Response):
        return signed_in
    state.operators.sign_out(request.cookies.get(SESSION_COOKIE, ""))
    _audit(state, signed_in.operator_id, "console_sign_out")
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# ---------------------------------------------------------------- the fleet
def _reasons(lang: str, status: KioskStatus) -> str:
    w = words(lang)
    return "、".join(w.get(f"reason.{reason}", reason) for reason in status.reasons) if lang == "zh" else \
        ", ".join(w.get(f"reason.{reason}", reason) for reason in status.reasons)


def _age(lang: str, status: KioskStatus) -> str:
    w = words(lang)
    return w["never_seen"] if status.age_seconds is None else w["seconds_ago"].format(seconds=int(status.age_seconds))


def _card(lang: str, status: KioskStatus) -> str:
    w, e = words(lang), html.escape
    kiosk = e(status.kiosk_id)
    refused = sum(status.refusals.values())
    counts = (f'{w["today"]}: {w["visits"]} {status.visits} · {w["registrations"]} {status.registrations} · '
              f'{w["activations_count"]} {status.activations} · {w["refusals"]} {refused}'
              if status.received_at is not None else "")
    return (f'<a class="kiosk {status.colour}" id="kiosk-{kiosk}" data-state="{status.colour}" '
            f'href="{PREFIX}/kiosks/{kiosk}"><h2><span>{kiosk}</span><span class="badge">{w[status.colour]}</span></h2>'
            f'<p class="small reasons">{e(_reasons(lang, status))}</p>'
            f'<p class="small">{w["version"]} {e(status.version or "-")} · {w["last_beat"]} '
            f'<span class="age">{e(_age(lang, status))}</span></p><p class="small">{e(counts)}</p></a>')


def fleet_fragment(state: Service, lang: str) -> str:
    """The kiosk list as the page and its refresh draw it: a summary line and one card per kiosk."""
    statuses = state.fleet.statuses()
    tally = {colour: sum(1 for s in statuses if s.colour == colour) for colour in COLOURS}
    summary = html.escape(words(lang)["summary"].format(**tally))
    return (f'<p id="summary" data-green="{tally["green"]}" data-amber="{tally["amber"]}" data-red="{tally["red"]}">'
            f'{summary}</p><div class="grid">{"".join(_card(lang, s) for s in statuses)}</div>')


_REFRESH = """<script>(function(){var box=document.getElementById('fleet'),wait=%d;
function tick(){fetch('%s/fleet',{credentials:'same-origin',cache:'no-store'}).then(function(r){
if(r.status===401){location.href='%s/sign-in?expired=1';return null}return r.ok?r.text():null}).then(function(t){
if(typeof t==='string'){box.innerHTML=t;box.dataset.refreshed=String(Date.now())}}).catch(function(){}).then(function(){
setTimeout(tick,wait)})}setTimeout(tick,wait)})();</script>"""


@router.get("", response_class=HTMLResponse)
def fleet_page(request: Request, state: ServiceDep, lang: Annotated[str | None, Query(max_length=4)] = None) -> Response:
    signed_in = _signed_in(state, request)
    if signed_in is None:
        return _to_sign_in()
    lang = _lang(request, lang)
    w = words(lang)
    purge = (f'<form method="post" action="{PREFIX}/purge" style="margin-top:1rem">{_csrf_field(signed_in.csrf)}'
             f'<button class="quiet" id="purge" type="submit">{w["purge"]}</button></form>')
    body = f'<section id="fleet">{fleet_fragment(state, lang)}</section>{purge}'
    script = _REFRESH % (int(state.settings.console_refresh_seconds * 1000), PREFIX, PREFIX)
    return _page(request, lang, body, signed_in=signed_in, script=script)


@router.get("/fleet", response_class=HTMLResponse)
def fleet_refresh(request: Request, state: ServiceDep) -> Response:
    """The kiosk list alone, for the page's refresh (401 once the session has ended)."""
    if _signed_in(state, request) is None:
        return Response(status_code=401)
    return HTMLResponse(fleet_fragment(state, _lang(request, None)), headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- one kiosk
def _kiosk_body(state: Service, lang: str, signed_in: SignedIn, status: KioskStatus) -> str:
    w, e = words(lang), html.escape
    rows = [
        (w["state"], f'<span class="badge {status.colour}" id="colour">{w[status.colour]}</span> '
                     f'{e(w.get(status.state, status.state))}'),
        (w["reasons"], e(_reasons(lang, status))),
        (w["last_beat"], e(_age(lang, status))),
        (w["version"], e(status.version)),
        (w["fingerprint"], e(status.settings_fingerprint[:16])),
        (w["uptime"], e(f"{status.uptime_seconds // 3600} h {status.uptime_seconds % 3600 // 60} min")),
        (w["reader"], e(w.get(f"reader.{status.reader}", status.reader))),
        (w["psam"], e(w.get(f"psam.{status.psam}", status.psam))),
        (w["today"], e(f'{status.day or ""} {w["visits"]} {status.visits} · {w["registrations"]} {status.registrations}'
                       f' · {w["activations_count"]} {status.activations}')),
        (w["refusals"], e(", ".join(f"{code} {count}" for code, count in sorted(status.refusals.items())))),
        (w["last_errors"], e(", ".join(f"{code} ({at})" for code, at in status.last_errors))),
    ]
    facts = "<dl>" + "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows) + "</dl>"
    kiosk = e(status.kiosk_id)
    if status.order is not None:
        order = status.order
        action = (f'<p id="order" class="note">{e(w["ordered"].format(operator=order.operator_id, since=_when(order.since)))}'
                  f'<br>{e(order.message_zh)}<br>{e(order.message_en)}</p>'
                  f'<form method="post" action="{PREFIX}/kiosks/{kiosk}/in-service">{_csrf_field(signed_in.csrf)}'
                  f'<button id="put-back" type="submit">{w["put_back"]}</button></form>')
    else:
        action = (f'<form class="stack" method="post" action="{PREFIX}/kiosks/{kiosk}/out-of-service">'
                  f'{_csrf_field(signed_in.csrf)}<label>{w["message_zh"]}<textarea name="message_zh" id="message-zh" '
                  f'maxlength="{MESSAGE_LENGTH}" required></textarea></label><label>{w["message_en"]}<textarea '
                  f'name="message_en" id="message-en" maxlength="{MESSAGE_LENGTH}" required></textarea></label>'
                  f'<button class="danger" id="take-out" type="submit">{w["take_out"]}</button></form>')
    trail = state.fleet.audit_trail(status.kiosk_id)
    audit = (f'<h2>{w["audit"]}</h2><table id="audit"><tr><th>{w["at"]}</th><th>{w["kind"]}</th><th>{w["detail"]}</th></tr>'
             + "".join(f"<tr><td>{e(_when(at))}</td><td>{e(kind)}</td><td>{e(scrub(detail))}</td></tr>"
                       for at, kind, detail in trail) + "</table>")
    return f'<h2 id="kiosk-id">{kiosk}</h2>{facts}<h2>{w["take_out"]} / {w["put_back"]}</h2>{action}{audit}'


@router.get("/kiosks/{kiosk_id}", response_class=HTMLResponse)
def kiosk_page(kiosk_id: KioskPath, request: Request, state: ServiceDep,
               lang: Annotated[str | None, Query(max_length=4)] = None,
               done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    signed_in = _signed_in(state, request)
    if signed_in is None:
        return _to_sign_in()
    lang = _lang(request, lang)
    w = words(lang)
    found = state.fleet.statuses(kiosk_id)
    if not found:
        return _page(request, lang, _note(w["no_such_kiosk"], "no_such_kiosk", True), status=404, signed_in=signed_in)
    note = _note(w[done], done) if done in ("taken_out", "put_back_done", "not_ordered") else ""
    return _page(request, lang, note + _kiosk_body(state, lang, signed_in, found[0]), signed_in=signed_in)


def _message_ok(text: str) -> bool:
    return 1 <= len(text) <= MESSAGE_LENGTH and bool(_PLAIN.match(text))


@router.post("/kiosks/{kiosk_id}/out-of-service", response_class=HTMLResponse)
def take_out(kiosk_id: KioskPath, request: Request, state: ServiceDep, csrf: Annotated[str, Form(max_length=100)] = "",
             message_zh: Annotated[str, Form(max_length=2000)] = "",
             message_en: Annotated[str, Form(max_length=2000)] = "") -> Response:
    signed_in = _form_operator(state, request, csrf)
    if isinstance(signed_in, Response):
        return signed_in
    lang = _lang(request, None)
    if not state.fleet.statuses(kiosk_id):
        return _page(request, lang, _note(words(lang)["no_such_kiosk"], "no_such_kiosk", True), status=404,
                     signed_in=signed_in)
    message_zh, message_en = message_zh.strip(), message_en.strip()
    if not (_message_ok(message_zh) and _message_ok(message_en)):
        return _page(request, lang, _note(words(lang)["message_needed"], "message_needed", True)
                     + f'<p><a class="button" href="{PREFIX}/kiosks/{html.escape(kiosk_id)}">{words(lang)["back"]}</a></p>',
                     status=422, signed_in=signed_in)
    # Messages are shown to guardians, never personal data: an ID number typed into one is masked.
    state.fleet.order_out(kiosk_id, scrub(message_zh), scrub(message_en), signed_in.operator_id)
    _audit(state, signed_in.operator_id, "console_out_of_service", kiosk_id=kiosk_id)
    return RedirectResponse(f"{PREFIX}/kiosks/{kiosk_id}?done=taken_out", status_code=303)


@router.post("/kiosks/{kiosk_id}/in-service", response_class=HTMLResponse)
def put_back(kiosk_id: KioskPath, request: Request, state: ServiceDep,
             csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    signed_in = _form_operator(state, request, csrf)
    if isinstance(signed_in, Response):
        return signed_in
    lifted = state.fleet.put_back(kiosk_id)
    if lifted:
        _audit(state, signed_in.operator_id, "console_in_service", kiosk_id=kiosk_id)
    return RedirectResponse(f"{PREFIX}/kiosks/{kiosk_id}?done={'put_back_done' if lifted else 'not_ordered'}",
                            status_code=303)


# ---------------------------------------------------------------- activations and upkeep
@router.get("/activations", response_class=HTMLResponse)
def activations_page(request: Request, state: ServiceDep, lang: Annotated[str | None, Query(max_length=4)] = None,
                     done: Annotated[str | None, Query(max_length=20)] = None,
                     ecard: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
    signed_in = _signed_in(state, request)
    if signed_in is None:
        return _to_sign_in()
    lang = _lang(request, lang)
    w, e = words(lang), html.escape
    note = ""
    if done == "cancelled":
        note = _note(w["cancelled"].format(ecard=ecard or ""), "cancelled")
    elif done == "not_pending":
        note = _note(w["not_pending"], "not_pending", True)
    pending = state.registry.pending_activations(limit=500)
    if not pending:
        return _page(request, lang, note + _note(w["pending_none"], "pending_none"), signed_in=signed_in)
    rows = "".join(
        f'<tr id="ecard-{p.ecard_id}"><td>{p.ecard_id}</td><td>{e(mask_name(p.child_name))} {e(mask_id(p.child_resident_id))}</td>'
        f'<td>{e(_when(p.created_at))}</td><td>{e(p.kiosk_id)}</td><td>{e(_when(p.code_expires_at) or w["no_code"])}</td>'
        f'<td><form method="post" action="{PREFIX}/activations/{p.ecard_id}/cancel">{_csrf_field(signed_in.csrf)}'
        f'<button class="danger" id="cancel-{p.ecard_id}" type="submit">{w["cancel"]}</button></form></td></tr>'
        for p in pending)
    table = (f'<table id="pending"><tr><th>#</th><th>{w["child"]}</th><th>{w["registered_at"]}</th><th>{w["kiosk"]}</th>'
             f'<th>{w["code_until"]}</th><th></th></tr>{rows}</table>')
    return _page(request, lang, note + table, signed_in=signed_in)


@router.post("/activations/{ecard_id}/cancel")
def cancel_activation(ecard_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request, state: ServiceDep,
                      csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    signed_in = _form_operator(state, request, csrf)
    if isinstance(signed_in, Response):
        return signed_in
    cancelled = state.registry.cancel_pending(ecard_id, f"by operator {signed_in.operator_id} (console)")
    if cancelled:
        _audit(state, signed_in.operator_id, "console_cancel_activation", f"ecard={ecard_id}")
    return RedirectResponse(f"{PREFIX}/activations?done={'cancelled' if cancelled else 'not_pending'}&ecard={ecard_id}",
                            status_code=303)


@router.post("/purge", response_class=HTMLResponse)
def purge(request: Request, state: ServiceDep, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    signed_in = _form_operator(state, request, csrf)
    if isinstance(signed_in, Response):
        return signed_in
    lang = _lang(request, None)
    count = state.registry.purge_expired()
    _audit(state, signed_in.operator_id, "console_purge_expired", f"purged={count}")
    w = words(lang)
    return _page(request, lang, _note(w["purged"].format(count=count), "purged")
                 + f'<p><a class="button" href="{PREFIX}">{w["back"]}</a></p>', signed_in=signed_in)
