"""Provides the phone page for testers: the QR's URL as a small server-rendered page to sign in as a demo guardian and confirm."""
from __future__ import annotations

# No JavaScript: plain forms, big buttons, Chinese first with an English switch. The words are the
# kiosk's message catalogue's (`phone.*` in kiosk/locale). The switch keeps the step the tester is on:
# a link (?lang=) on the page the QR opened, and after the sign-in a form that posts the same step
# again in the other language (the signed-in guardian with it); on the outcome, a form that shows that
# same outcome again, re-read from the ticket (never a second activation). Every
# value from the request or the registry goes through html.escape. CSRF for a demo: a random
# double-submit token, set as a cookie and echoed in each form; a POST whose two differ is refused.
# The stand-in sign-in carries the tester's chosen resident ID in the form, as the real app's login would.

import html
import secrets
import tomllib
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from kiosk import CONFIG_DIR
from kiosk.i18n import N_, message
from kiosk.masking import mask_name
from kiosk.registry.phone import PhoneAnswer, PreviewAnswer
from kiosk.registry.phone_words import OUTCOME_KEYS, answer_outcome
from registry_service.deps import ServiceDep
from registry_service.phone import client_of, desk

PAGE_PREFIX = "/a"
"""The path of the activation URL base the service's default settings name (`<base>/<token>`)."""
CSRF_COOKIE = "ecard_csrf"
DEMO_FILE = CONFIG_DIR / "demo" / "registry.toml"
router = APIRouter(prefix=PAGE_PREFIX, include_in_schema=False)

WORDS = {
    "child": N_("phone.child"),
    "confirm": N_("phone.confirm"),
    "expires": N_("phone.expires"),
    "kiosk": N_("phone.kiosk"),
    "next": N_("phone.next"),
    "or_type": N_("phone.or_type"),
    "pick": N_("phone.pick"),
    "sign_in": N_("phone.sign_in"),
    "signed_in_as": N_("phone.signed_in_as"),
    "switch": N_("phone.switch"),
    "title": N_("phone.title"),
}
"""The page's own words (its title, labels and buttons): catalogue keys, as N_ declares them for the check."""
_STYLE = """body{font-family:sans-serif;margin:0;padding:1rem;max-width:32rem;margin:auto;font-size:1.15rem}
h1{font-size:1.5rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#555}
button,select,input{font-size:1.2rem;width:100%;min-height:3rem;margin:.4rem 0;box-sizing:border-box}
button{background:#0a66c2;color:#fff;border:0;border-radius:.4rem}.note{padding:1rem;border-radius:.4rem;background:#eef}
.refused{background:#fde8e8}.lang{float:right;margin:0}
.lang button{width:auto;min-height:2rem;margin:0;padding:0 .6rem;background:none;color:#0a66c2;border:1px solid #0a66c2}"""


@lru_cache(maxsize=1)
def demo_guardians() -> tuple[tuple[str, str], ...]:
    """(resident ID, masked name) of the demo data's guardians, for the tester's sign-in list."""
    data = tomllib.loads(DEMO_FILE.read_text(encoding="utf-8"))
    names = {p["resident_id"]: p["name"] for p in data.get("person", [])}
    guardians = dict.fromkeys(g["guardian"] for g in data.get("guardianship", []))
    return tuple((rid, mask_name(names.get(rid, rid))) for rid in guardians)


def _lang(lang: str | None) -> str:
    return "en" if lang == "en" else "zh"


def _other(lang: str) -> str:
    return "zh" if lang == "en" else "en"


def _t(lang: str, key: str, **values: object) -> str:
    return html.escape(message(key, lang, **values))


def _switch_link(lang: str, href: str) -> str:
    """The switch on a page a GET reaches again: the same page in the other language."""
    return f'<a class="lang" id="lang-switch" href="{html.escape(href)}">{_t(lang, WORDS["switch"])}</a>'


def _switch_form(lang: str, action: str, csrf: str, fields: dict[str, str]) -> str:
    """The switch on a page a POST made: the same step posted again in the other language, with what it carried."""
    hidden = "".join(f'<input type="hidden" name="{name}" value="{html.escape(value)}">' for name, value in fields.items())
    return (f'<form class="lang" method="post" action="{html.escape(action)}">{_hidden(_other(lang), csrf)}{hidden}'
            f'<button id="lang-switch" type="submit">{_t(lang, WORDS["switch"])}</button></form>')


def _page(lang: str, body: str, csrf: str, switch: str, status: int = 200) -> HTMLResponse:
    title = _t(lang, WORDS["title"])
    document = (f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
                f'<style>{_STYLE}</style></head><body>{switch}<h1>{title}</h1>{body}</body></html>')
    response = HTMLResponse(document, status_code=status, headers={"Cache-Control": "no-store",
                                                                 "Referrer-Policy": "no-referrer"})
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict")
    return response


def _ticket_href(token: str, lang: str) -> str:
    return f"{PAGE_PREFIX}/{token}?lang={lang}"


def _facts(lang: str, found: PreviewAnswer) -> str:
    e = html.escape
    assert found.preview is not None
    p = found.preview
    return (f'<dl><dt>{_t(lang, WORDS["child"])}</dt><dd id="child">{e(p.child_masked_name)}</dd>'
            f'<dt>{_t(lang, WORDS["kiosk"])}</dt><dd id="kiosk">{e(p.kiosk_id)}</dd>'
            f'<dt>{_t(lang, WORDS["expires"])}</dt><dd>{e(p.expires_at.strftime("%Y-%m-%d %H:%M UTC"))}</dd></dl>')


def _note(lang: str, key: str, refused: bool, seconds: int = 0) -> str:
    text = message(OUTCOME_KEYS[key], lang, seconds=seconds)
    return f'<p id="outcome" data-outcome="{html.escape(key)}" class="note{" refused" if refused else ""}">{html.escape(text)}</p>'


def _outcome_page(lang: str, token: str, key: str, seconds: int, facts: str = "", status: int = 200) -> HTMLResponse:
    """A page that ends the journey with a note; its switch shows the same note in the other language."""
    fresh = secrets.token_urlsafe(16)
    switch = _switch_form(lang, f"{PAGE_PREFIX}/{token}/outcome", fresh, {"shown": key, "seconds": str(seconds)})
    return _page(lang, facts + _note(lang, key, key != "activated", seconds), fresh, switch, status)


def _refusal_of(answer: PreviewAnswer | PhoneAnswer) -> str | None:
    """The text key for an answer that ends the page's journey, or None to go on."""
    if isinstance(answer, PreviewAnswer):
        if answer.outcome != "found":
            return answer.outcome
        assert answer.preview is not None
        return {"pending": None, "activated": "already_used", "expired": "expired_token", "revoked": "expired_token",
                "locked": "locked"}[answer.preview.state]
    return answer_outcome(answer)


def _hidden(lang: str, csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{html.escape(csrf)}"><input type="hidden" name="lang" value="{lang}">'


@router.get("/{token}", response_class=HTMLResponse)
def ticket_page(token: str, request: Request, state: ServiceDep, lang: Annotated[str | None, Query()] = None) -> HTMLResponse:
    """The page the QR leads to: the child's masked name, the kiosk, the expiry, and the sign-in."""
    lang, csrf = _lang(lang), secrets.token_urlsafe(16)
    switch = _switch_link(lang, _ticket_href(token, _other(lang)))
    found = desk(state).preview(token, client_of(request))
    refusal = _refusal_of(found)
    if refusal is not None:
        facts = _facts(lang, found) if found.preview is not None else ""
        return _page(lang, facts + _note(lang, refusal, True, found.retry_after_seconds), csrf, switch)
    options = "".join(f'<option value="{html.escape(rid)}">{html.escape(name)} ({html.escape(rid[:4])}…{html.escape(rid[-4:])})</option>'
                      for rid, name in demo_guardians())
    form = (f'<form method="post" action="{PAGE_PREFIX}/{html.escape(token)}/sign-in"><h2>{_t(lang, WORDS["sign_in"])}</h2>'
            f'{_hidden(lang, csrf)}<label>{_t(lang, WORDS["pick"])}<select name="guardian" id="guardian"><option value=""></option>'
            f'{options}</select></label><label>{_t(lang, WORDS["or_type"])}<input name="typed" id="typed" autocomplete="off" '
            f'maxlength="18"></label><button id="sign-in" type="submit">{_t(lang, WORDS["next"])}</button></form>')
    return _page(lang, _facts(lang, found) + form, csrf, switch)


def _csrf_ok(request: Request, csrf: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and secrets.compare_digest(cookie.encode(), csrf.encode())


def _csrf_refused(lang: str, token: str) -> HTMLResponse:
    """A form without its page's token: the page again from the QR's link (its switch too: nothing to keep)."""
    fresh = secrets.token_urlsafe(16)
    return _page(lang, _note(lang, "csrf", True), fresh, _switch_link(lang, _ticket_href(token, _other(lang))), 403)


@router.post("/{token}/sign-in", response_class=HTMLResponse)
def sign_in(
    token: str, request: Request, state: ServiceDep, csrf: Annotated[str, Form(max_length=64)] = "",
    lang: Annotated[str, Form(max_length=4)] = "zh", guardian: Annotated[str, Form(max_length=40)] = "",
    typed: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """The tester is signed in as the guardian they picked or typed: the confirm step."""
    lang, fresh = _lang(lang), secrets.token_urlsafe(16)
    if not _csrf_ok(request, csrf):
        return _csrf_refused(lang, token)
    rid = (typed or guardian).strip().upper()
    found = desk(state).preview(token, client_of(request))
    refusal = "no_identity" if not rid and found.outcome == "found" else _refusal_of(found)
    facts = _facts(lang, found) if found.preview is not None else ""
    if refusal is not None:
        return _outcome_page(lang, token, refusal, found.retry_after_seconds, facts)
    form = (f'<form method="post" action="{PAGE_PREFIX}/{html.escape(token)}/confirm">{_hidden(lang, fresh)}'
            f'<input type="hidden" name="rid" value="{html.escape(rid)}">'
            f'<p>{_t(lang, WORDS["signed_in_as"])}: <span id="signed-in">{html.escape(rid[:4])}…{html.escape(rid[-4:])}</span></p>'
            f'<button id="confirm" type="submit">{_t(lang, WORDS["confirm"])}</button></form>')
    switch = _switch_form(lang, f"{PAGE_PREFIX}/{token}/sign-in", fresh, {"guardian": rid})
    return _page(lang, facts + form, fresh, switch)


@router.post("/{token}/confirm", response_class=HTMLResponse)
def confirm(
    token: str, request: Request, state: ServiceDep, csrf: Annotated[str, Form(max_length=64)] = "",
    lang: Annotated[str, Form(max_length=4)] = "zh", rid: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """Activate for the signed-in tester: done, or a plain refusal (another guardian, run out, locked, too many tries)."""
    lang = _lang(lang)
    if not _csrf_ok(request, csrf):
        return _csrf_refused(lang, token)
    answer = desk(state).activate(token, rid, client_of(request))
    return _outcome_page(lang, token, _refusal_of(answer) or "activated", answer.retry_after_seconds)


@router.post("/{token}/outcome", response_class=HTMLResponse)
def outcome(
    token: str, request: Request, state: ServiceDep, csrf: Annotated[str, Form(max_length=64)] = "",
    lang: Annotated[str, Form(max_length=4)] = "zh", shown: Annotated[str, Form(max_length=20)] = "",
    seconds: Annotated[int, Form(ge=0, le=3600)] = 0,
) -> HTMLResponse:
    """The outcome the tester was shown, in the other language: "activated" only while the ticket says so."""
    lang = _lang(lang)
    if not _csrf_ok(request, csrf) or shown not in OUTCOME_KEYS or shown == "csrf":
        return _csrf_refused(lang, token)
    if shown == "activated":
        found = desk(state).preview(token, client_of(request))
        if found.preview is None or found.preview.state != "activated":
            return _outcome_page(lang, token, _refusal_of(found) or "expired_token", found.retry_after_seconds)
    return _outcome_page(lang, token, shown, seconds)
