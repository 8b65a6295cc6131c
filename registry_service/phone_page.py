"""Provides the phone page for testers: the QR's URL as a small server-rendered page to sign in as a demo guardian and confirm."""
from __future__ import annotations

# No JavaScript: plain forms, big buttons, Chinese first with an English switch (?lang=en). Every
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
from kiosk.masking import mask_name
from kiosk.registry.phone import PhoneAnswer, PreviewAnswer
from registry_service.deps import ServiceDep
from registry_service.phone import client_of, desk

PAGE_PREFIX = "/a"
"""The path of the activation URL base the service's default settings name (`<base>/<token>`)."""
CSRF_COOKIE = "ecard_csrf"
DEMO_FILE = CONFIG_DIR / "demo" / "registry.toml"
router = APIRouter(prefix=PAGE_PREFIX, include_in_schema=False)

TEXT = {
    "zh": {
        "title": "激活儿童电子社保卡", "child": "儿童", "kiosk": "办理终端", "expires": "有效期至",
        "sign_in": "以监护人身份登录", "pick": "选择演示监护人", "or_type": "或输入身份证号码", "next": "登录",
        "signed_in_as": "当前登录", "confirm": "确认激活", "activated": "电子社保卡已激活，请回到自助机取卡。",
        "access_denied": "您不是为该儿童办理电子社保卡的监护人，不能激活。",
        "locked": "该二维码已被锁定，请在自助机上重新获取二维码。",
        "expired_token": "该二维码已失效，请在自助机上重新获取二维码。",
        "already_used": "该电子社保卡已激活。", "invalid_code": "二维码无效，请重新扫描自助机上的二维码。",
        "slow_down": "尝试次数过多，请 {seconds} 秒后再试。", "csrf": "页面已过期，请重新打开二维码链接。",
        "no_identity": "请选择或输入监护人身份证号码。", "switch": "English", "other": "zh",
    },
    "en": {
        "title": "Activate a child's e-card", "child": "Child", "kiosk": "Kiosk", "expires": "Valid until",
        "sign_in": "Sign in as the guardian", "pick": "Pick a demo guardian", "or_type": "or type a resident ID",
        "next": "Sign in", "signed_in_as": "Signed in as", "confirm": "Confirm activation",
        "activated": "The e-card is active. Go back to the kiosk and take your card.",
        "access_denied": "You are not the guardian who registered this child's e-card: it cannot be activated.",
        "locked": "This QR code is locked. Ask the kiosk for a new one.",
        "expired_token": "This QR code has run out. Ask the kiosk for a new one.",
        "already_used": "This e-card is already active.", "invalid_code": "This QR code is not valid. Scan the kiosk's code again.",
        "slow_down": "Too many tries. Try again in {seconds} s.", "csrf": "This page has expired. Open the QR link again.",
        "no_identity": "Pick or type the guardian's resident ID.", "switch": "中文", "other": "en",
    },
}
_STYLE = """body{font-family:sans-serif;margin:0;padding:1rem;max-width:32rem;margin:auto;font-size:1.15rem}
h1{font-size:1.5rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#555}
button,select,input{font-size:1.2rem;width:100%;min-height:3rem;margin:.4rem 0;box-sizing:border-box}
button{background:#0a66c2;color:#fff;border:0;border-radius:.4rem}.note{padding:1rem;border-radius:.4rem;background:#eef}
.refused{background:#fde8e8}.lang{float:right}"""


@lru_cache(maxsize=1)
def demo_guardians() -> tuple[tuple[str, str], ...]:
    """(resident ID, masked name) of the demo data's guardians, for the tester's sign-in list."""
    data = tomllib.loads(DEMO_FILE.read_text(encoding="utf-8"))
    names = {p["resident_id"]: p["name"] for p in data.get("person", [])}
    guardians = dict.fromkeys(g["guardian"] for g in data.get("guardianship", []))
    return tuple((rid, mask_name(names.get(rid, rid))) for rid in guardians)


def _lang(lang: str | None) -> str:
    return "en" if lang == "en" else "zh"


def _page(lang: str, body: str, csrf: str, status: int = 200) -> HTMLResponse:
    t = TEXT[lang]
    switch = f'<a class="lang" href="?lang={t["other"] == "zh" and "en" or "zh"}">{t["switch"]}</a>'
    document = (f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{t["title"]}</title>'
                f'<style>{_STYLE}</style></head><body>{switch}<h1>{t["title"]}</h1>{body}</body></html>')
    response = HTMLResponse(document, status_code=status, headers={"Cache-Control": "no-store",
                                                                 "Referrer-Policy": "no-referrer"})
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict")
    return response


def _facts(lang: str, found: PreviewAnswer) -> str:
    t, e = TEXT[lang], html.escape
    assert found.preview is not None
    p = found.preview
    return (f'<dl><dt>{t["child"]}</dt><dd id="child">{e(p.child_masked_name)}</dd>'
            f'<dt>{t["kiosk"]}</dt><dd id="kiosk">{e(p.kiosk_id)}</dd>'
            f'<dt>{t["expires"]}</dt><dd>{e(p.expires_at.strftime("%Y-%m-%d %H:%M UTC"))}</dd></dl>')


def _note(lang: str, key: str, refused: bool, seconds: int = 0) -> str:
    text = TEXT[lang][key].format(seconds=seconds)
    return f'<p id="outcome" data-outcome="{html.escape(key)}" class="note{" refused" if refused else ""}">{html.escape(text)}</p>'


def _refusal_of(answer: PreviewAnswer | PhoneAnswer) -> str | None:
    """The text key for an answer that ends the page's journey, or None to go on."""
    if isinstance(answer, PreviewAnswer):
        if answer.outcome != "found":
            return answer.outcome
        assert answer.preview is not None
        return {"pending": None, "activated": "already_used", "expired": "expired_token", "revoked": "expired_token",
                "locked": "locked"}[answer.preview.state]
    if answer.outcome == "access_denied" and answer.tries_left == 0:
        return "locked" if answer.ticket_id is not None else "access_denied"
    return answer.outcome


def _hidden(lang: str, csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{html.escape(csrf)}"><input type="hidden" name="lang" value="{lang}">'


@router.get("/{token}", response_class=HTMLResponse)
def ticket_page(token: str, request: Request, state: ServiceDep, lang: Annotated[str | None, Query()] = None) -> HTMLResponse:
    """The page the QR leads to: the child's masked name, the kiosk, the expiry, and the sign-in."""
    lang, csrf = _lang(lang), secrets.token_urlsafe(16)
    found = desk(state).preview(token, client_of(request))
    refusal = _refusal_of(found)
    if refusal is not None:
        facts = _facts(lang, found) if found.preview is not None else ""
        return _page(lang, facts + _note(lang, refusal, True, found.retry_after_seconds), csrf)
    t = TEXT[lang]
    options = "".join(f'<option value="{html.escape(rid)}">{html.escape(name)} ({html.escape(rid[:4])}…{html.escape(rid[-4:])})</option>'
                      for rid, name in demo_guardians())
    form = (f'<form method="post" action="{PAGE_PREFIX}/{html.escape(token)}/sign-in"><h2>{t["sign_in"]}</h2>'
            f'{_hidden(lang, csrf)}<label>{t["pick"]}<select name="guardian" id="guardian"><option value=""></option>'
            f'{options}</select></label><label>{t["or_type"]}<input name="typed" id="typed" autocomplete="off" '
            f'maxlength="18"></label><button id="sign-in" type="submit">{t["next"]}</button></form>')
    return _page(lang, _facts(lang, found) + form, csrf)


def _csrf_ok(request: Request, csrf: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and secrets.compare_digest(cookie.encode(), csrf.encode())


@router.post("/{token}/sign-in", response_class=HTMLResponse)
def sign_in(
    token: str, request: Request, state: ServiceDep, csrf: Annotated[str, Form(max_length=64)] = "",
    lang: Annotated[str, Form(max_length=4)] = "zh", guardian: Annotated[str, Form(max_length=40)] = "",
    typed: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """The tester is signed in as the guardian they picked or typed: the confirm step."""
    lang, fresh = _lang(lang), secrets.token_urlsafe(16)
    if not _csrf_ok(request, csrf):
        return _page(lang, _note(lang, "csrf", True), fresh, 403)
    rid = (typed or guardian).strip().upper()
    found = desk(state).preview(token, client_of(request))
    refusal = "no_identity" if not rid and found.outcome == "found" else _refusal_of(found)
    facts = _facts(lang, found) if found.preview is not None else ""
    if refusal is not None:
        return _page(lang, facts + _note(lang, refusal, True, found.retry_after_seconds), fresh)
    t = TEXT[lang]
    form = (f'<form method="post" action="{PAGE_PREFIX}/{html.escape(token)}/confirm">{_hidden(lang, fresh)}'
            f'<input type="hidden" name="rid" value="{html.escape(rid)}">'
            f'<p>{t["signed_in_as"]}: <span id="signed-in">{html.escape(rid[:4])}…{html.escape(rid[-4:])}</span></p>'
            f'<button id="confirm" type="submit">{t["confirm"]}</button></form>')
    return _page(lang, facts + form, fresh)


@router.post("/{token}/confirm", response_class=HTMLResponse)
def confirm(
    token: str, request: Request, state: ServiceDep, csrf: Annotated[str, Form(max_length=64)] = "",
    lang: Annotated[str, Form(max_length=4)] = "zh", rid: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """Activate for the signed-in tester: done, or a plain refusal (another guardian, run out, locked, too many tries)."""
    lang, fresh = _lang(lang), secrets.token_urlsafe(16)
    if not _csrf_ok(request, csrf):
        return _page(lang, _note(lang, "csrf", True), fresh, 403)
    answer = desk(state).activate(token, rid, client_of(request))
    key = _refusal_of(answer) or "activated"
    return _page(lang, _note(lang, key, key != "activated", answer.retry_after_seconds), fresh)
