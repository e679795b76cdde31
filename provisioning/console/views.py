"""The console's pages. Every view states its role (security.need / login_required) and checks the
unit of what it shows; every action goes to the accounts journal with the operator's uid and address."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST, require_http_methods

from ..accounts import access
from ..accounts import service as accounts
from ..accounts.apply import LockHeld, lock_holder
from ..accounts.journal import accounts_dir
from ..errors import BadInput, OperationFailed
from ..render import i18n
from ..report import forms as report_forms
from ..report.period import Month
from . import security, texts  # noqa: F401  (texts registers the console's messages)
from .app import HERE, state
from .state import Job
from .security import (CSP_DOCUMENT, allowed, clear_attempts, client_ip, failed_attempt, forbidden, lang_of,
                       limited, login_required, need)
from .upload import Refused, sniff

PAGE = 50
CATEGORIES = ("joiners", "movers", "renames", "leavers", "returning", "other")
MONTH_RE = re.compile(r"^\d{4}-\d{2}$")


def _t(request, key: str, **kw) -> str:
    return i18n.t(key, lang_of(request), **kw)


def _note(request, action: str, uid: str, changes: dict | None = None, unit: str | None = None,
          hr_id: str | None = None, operator: str | None = None) -> None:
    who = operator or (request.official or {}).get("uid") or "-"
    accounts.note(state().ctx, action, uid, changes, operator=who, source=client_ip(request), unit=unit, hr_id=hr_id)


def _render(request, name: str, ctx: dict | None = None, status: int = 200):
    return render(request, f"console/{name}", ctx or {}, status=status)


def csrf_failure(request, reason=""):
    return HttpResponse(i18n.t("console.csrf", lang_of(request)), status=403, content_type="text/plain; charset=utf-8")


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def static(request, name: str):
    path = (HERE / "static" / "console" / name).resolve()
    if path.parent != (HERE / "static" / "console").resolve() or not path.is_file():
        raise Http404()
    ctype = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}.get(path.suffix,
                                                                                     "application/octet-stream")
    resp = FileResponse(open(path, "rb"), content_type=ctype)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@require_POST
def set_lang(request):
    lang = request.POST.get("lang")
    if lang in i18n.LANGS:
        request.session["lang"] = lang
    from django.utils.http import url_has_allowed_host_and_scheme

    nxt = request.POST.get("next") or "/"
    ok = nxt.startswith("/") and url_has_allowed_host_and_scheme(nxt, allowed_hosts=None)
    return HttpResponseRedirect(nxt if ok else "/")


# --- login, second factor, password change --------------------------------------------------------

def _home_for(official: dict) -> str:
    if official.get("hr"):
        return "/accounts/"
    if official.get("admin_units"):
        return "/officials/"
    if official.get("office"):
        return "/reports/"
    return "/me"


@require_http_methods(["GET", "POST"])
def login(request):
    if request.method == "GET":
        if request.official:
            return HttpResponseRedirect(_home_for(request.official))
        return _render(request, "login.html")
    username = unicodedata.normalize("NFC", request.POST.get("username", "")).strip().lower()
    password = request.POST.get("password", "")
    ip = client_ip(request)
    if limited(ip, username):
        return _render(request, "login.html", {"error": _t(request, "console.login.limited"), "username": username},
                       status=429)
    st = state()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", username):
        failed_attempt(ip, username)
        return _render(request, "login.html", {"error": _t(request, "console.login.bad")}, status=401)
    try:
        dn, attrs = accounts.login_lookup(st.ctx, username)
        result = access.authenticate(st.ctx.target, dn, password) if dn else access.Login(False, None, "bad")
    except OperationFailed:
        return _render(request, "login.html", {"error": _t(request, "console.login.unavailable")}, status=503)
    if not result.ok:
        failed_attempt(ip, username)
        if dn:   # a password typed into the username field must not reach the journal
            _note(request, "console-login-failed", username, {"reason": result.problem}, operator=username)
        return _render(request, "login.html", {"error": _t(request, f"console.login.{result.problem}"),
                                               "username": username}, status=401)
    if result.conn is not None:
        result.conn.unbind()
    clear_attempts(username, ip)
    request.session.cycle_key()       # no session fixation: a new id at every login step
    request.session["pending"] = {"uid": username, "dn": dn, "name": _one(attrs, "cn") or username,
                                  "unit": _one(attrs, "departmentNumber") or ""}
    if result.must_change:
        request.session["pending"]["must_change"] = True
        return HttpResponseRedirect("/password")
    return _after_password(request)


def _one(attrs: dict, key: str):
    v = attrs.get(key)
    return (v[0] if v else None) if isinstance(v, list) else v


def _after_password(request):
    st = state()
    pending = request.session["pending"]
    roles = accounts.roles(st.ctx, pending["dn"])
    pending.update({"hr": roles.hr, "office": roles.office, "admin_units": roles.admin_units,
                    "privileged": roles.privileged})
    request.session["pending"] = pending
    if roles.privileged:
        return HttpResponseRedirect("/login/2fa")
    return _complete(request)


def _complete(request):
    pending = request.session.pop("pending")
    pending.pop("must_change", None)
    request.session.cycle_key()
    request.session["official"] = pending
    request.session["seen"] = int(security.clock())
    _note(request, "console-login", pending["uid"], {"roles": access.Roles(pending["hr"], pending["office"],
                                                                           pending["admin_units"]).names()},
          unit=pending.get("unit"), operator=pending["uid"])
    return HttpResponseRedirect(_home_for(pending))


@require_http_methods(["GET", "POST"])
def login_2fa(request):
    import pyotp
    import segno

    pending = request.session.get("pending")
    if not pending or not pending.get("privileged") or pending.get("must_change"):
        return HttpResponseRedirect("/login")
    st = state()
    uid = pending["uid"]
    enrolled = st.totp.secret(uid) is not None
    ctx: dict = {"enrolled": enrolled}
    if not enrolled:
        secret = request.session.get("enroll_secret") or pyotp.random_base32()
        request.session["enroll_secret"] = secret
        uri = pyotp.TOTP(secret).provisioning_uri(name=f"{uid}@{st.province.info.mail_domain}",
                                                  issuer_name=f"console.{st.province.dns_zone}")
        ctx.update(secret=secret, qr=segno.make(uri, error="m").svg_inline(scale=4, title="TOTP"))
    if request.method == "POST":
        code = re.sub(r"\s", "", request.POST.get("code", ""))
        ip = client_ip(request)
        if limited(ip, uid):
            ctx["error"] = _t(request, "console.login.limited")
            return _render(request, "totp.html", ctx, status=429)
        ok = False
        if enrolled:
            ok = st.totp.use(uid, code)
        elif code.isdigit() and len(code) == 6 and pyotp.TOTP(ctx["secret"]).verify(code, valid_window=1):
            st.totp.enroll(uid, ctx["secret"], int(time.time()) // 30)
            request.session.pop("enroll_secret", None)
            _note(request, "console-2fa-enrolled", uid, operator=uid, unit=pending.get("unit"))
            ok = True
        if ok:
            clear_attempts(uid, ip)
            return _complete(request)
        failed_attempt(ip, uid)
        ctx["error"] = _t(request, "console.totp.bad")
        return _render(request, "totp.html", ctx, status=401)
    return _render(request, "totp.html", ctx)


@require_http_methods(["GET", "POST"])
def password(request):
    """Change one's own password: after a reset (before anything else) or from the account page."""
    pending = request.session.get("pending")
    who = request.official or (pending if pending and pending.get("must_change") else None)
    if not who:
        return HttpResponseRedirect("/login")
    ctx = {"forced": who is pending, "uid": who["uid"]}
    if request.method == "GET":
        return _render(request, "password.html", ctx)
    old, new, again = (request.POST.get(k, "") for k in ("old_password", "new_password", "new_password2"))
    ip = client_ip(request)
    if limited(ip, who["uid"]):
        ctx["error"] = _t(request, "console.login.limited")
        return _render(request, "password.html", ctx, status=429)
    if new != again:
        ctx["error"] = _t(request, "console.password.mismatch")
        return _render(request, "password.html", ctx, status=400)
    if len(new) < 8 or new == old:
        ctx["error"] = _t(request, "console.password.weak")
        return _render(request, "password.html", ctx, status=400)
    st = state()
    login_ = access.authenticate(st.ctx.target, who["dn"], old)
    if not login_.ok:
        failed_attempt(ip, who["uid"])
        ctx["error"] = _t(request, f"console.login.{login_.problem}")
        return _render(request, "password.html", ctx, status=401)
    try:
        problem = access.change_password(login_.conn, st.ctx.target, who["dn"], who["uid"], old, new)
    finally:
        login_.conn.unbind()
    if problem:
        key = f"console.password.{problem}"
        ctx["error"] = _t(request, key) if key in i18n._CATALOGUE else _t(request, "console.password.refused",
                                                                            why=problem)
        return _render(request, "password.html", ctx, status=400)
    _note(request, "change-password", who["uid"], {"password": "changed by the official"}, unit=who.get("unit"),
          operator=who["uid"])
    if who is pending:
        pending.pop("must_change", None)
        request.session["pending"] = pending
        return _after_password(request)
    return _render(request, "password.html", {**ctx, "done": True})


@require_POST
def logout(request):
    if request.official:
        _note(request, "console-logout", request.official["uid"])
    request.session.flush()
    return HttpResponseRedirect("/login")


@login_required
@require_GET
def home(request):
    return HttpResponseRedirect(_home_for(request.official))


@login_required
@require_GET
def me(request):
    st = state()
    info = accounts.official(st.ctx, request.official["uid"])
    zone = st.province.dns_zone
    return _render(request, "me.html", {"info": info, "imap": f"imap.{zone}", "smtp": f"smtp.{zone}",
                                        "webmail": f"https://mail.{zone}/"})


# --- roster -> plan -> apply -----------------------------------------------------------------------

def _category(c: dict) -> str:
    a = c["action"]
    if a == "create":
        return "joiners"
    if a == "enable":
        return "returning"
    if a == "disable":
        return "leavers"
    if a == "update" and "move" in c["kinds"]:
        return "movers"
    if a == "update" and "rename" in c["kinds"]:
        return "renames"
    return "other"


@need("hr")
@require_GET
def accounts_home(request):
    holder = lock_holder(state().ctx.inventory_dir)
    return _render(request, "upload.html", {"holder": holder, "max_mb": state().cfg.upload_max_mb})


@need("hr")
@require_POST
def plan(request):
    st = state()
    limit = st.cfg.upload_max_mb * 1024 * 1024
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
        return _render(request, "upload.html", {"error": _t(request, "console.upload.too_big",
                                                            mb=st.cfg.upload_max_mb)}, status=413)
    f = request.FILES.get("roster")
    if f is None:
        return _render(request, "upload.html", {"error": _t(request, "console.upload.missing")}, status=400)
    token, d = st.new_plan_dir()
    raw = d / "upload"
    with open(raw, "wb") as out:
        for chunk in f.chunks():
            out.write(chunk)
    try:
        kind = sniff(raw, limit)
    except Refused as e:
        _note(request, "console-roster-refused", "-", {"file": f.name[:100], "why": e.key.rsplit(".", 1)[-1]})
        return _render(request, "upload.html", {"error": _t(request, e.key, **e.kw)}, status=400)
    path = raw.rename(d / f"roster.{kind}")
    try:
        roster = accounts.read(st.ctx, path)
    except BadInput as e:
        if not hasattr(e, "problems"):   # the roster reader's RosterError lists every problem
            return _render(request, "upload.html", {"error": str(e).replace(str(path), f.name)}, status=400)
        lang = lang_of(request)
        problems = [{"row": p.row or "", "column": p.column, "value": p.value, "reason": p.text(lang)}
                    for p in e.problems]
        _note(request, "console-roster-refused", "-", {"file": f.name[:100], "problems": len(problems)})
        return _render(request, "upload.html", {"problems": problems, "filename": f.name}, status=400)
    try:
        observed = accounts.observe(st.ctx)
        p = accounts.make_plan(st.ctx, roster, observed)
    except OperationFailed as e:
        return _render(request, "upload.html", {"error": str(e)}, status=503)
    meta = {"owner": request.official["uid"], "file": f.name, "kind": kind,
            "fingerprint": observed.fingerprint(), "created": int(time.time())}
    plain = st.write_json(d / "plan.json", p)
    st.write_json(d / "meta.json", meta)
    _keep_plan(token, PlanView.of(plain, meta, roster))   # its pages need not read plan.json back
    _note(request, "console-plan", "-", {"file": f.name[:100], **p.summary})
    return _plan_page(request, token, d)


@dataclass
class PlanView:
    """A plan as its pages need it, parsed once: the plain plan, its upload's facts, and per category
    the positions of its changes (a page takes its 50 rows from there, no table of 10,000 is built)."""
    plan: dict
    meta: dict
    by_category: dict[str, list[int]]
    summary: dict[str, int]
    disables: int
    roster: object = None     # the roster read at the upload (accounts.Roster), for the apply

    @classmethod
    def of(cls, plan: dict, meta: dict, roster=None) -> "PlanView":
        by_category: dict[str, list[int]] = {c: [] for c in CATEGORIES}
        summary = dict.fromkeys(("create", "enable", "update", "disable", "mailbox", "reissue"), 0)
        for n, c in enumerate(plan["changes"]):
            by_category[_category(c)].append(n)
            if c["action"] in summary:
                summary[c["action"]] += 1
        summary["group_changes"] = len(plan["groups"])
        return cls(plan, meta, by_category, summary, summary["disable"], roster)


_PLANS: OrderedDict[str, PlanView] = OrderedDict()   # the last few plans looked at; plan.json never changes
_PLANS_KEPT = 4
_plans_lock = threading.Lock()


def _keep_plan(token: str, view: PlanView) -> PlanView:
    with _plans_lock:
        _PLANS[token] = view
        _PLANS.move_to_end(token)
        while len(_PLANS) > _PLANS_KEPT:
            _PLANS.popitem(last=False)
    return view


def _plan_view(token: str) -> tuple[Path, PlanView]:
    d = state().plan_dir(token)
    if d is None or not (d / "plan.json").is_file():
        raise Http404()
    with _plans_lock:
        view = _PLANS.get(token)
        if view is not None:
            _PLANS.move_to_end(token)
    if view is None:
        view = _keep_plan(token, PlanView.of(json.loads((d / "plan.json").read_text(encoding="utf-8")),
                                             json.loads((d / "meta.json").read_text(encoding="utf-8"))))
    return d, view


def _load_plan(token: str):
    d, view = _plan_view(token)
    return d, view.plan, view.meta


def _plan_page(request, token: str, d: Path | None = None, status: int = 200, error: str | None = None):
    d, view = _plan_view(token)
    p, meta = view.plan, view.meta
    from ..accounts.plan import guard_limit

    counts = {c: len(view.by_category[c]) for c in CATEGORIES}
    cat = request.GET.get("tab") if request.GET.get("tab") in CATEGORIES else next(
        (c for c in CATEGORIES if counts[c]), "joiners")
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    rows = [p["changes"][n] for n in view.by_category[cat][(page - 1) * PAGE: page * PAGE]]
    disables = view.disables
    limit = guard_limit(p["enabled_before"], None)
    guard = disables > limit or (disables and disables == p["enabled_before"])
    pages = max(1, -(-counts[cat] // PAGE))
    job = _job(token)
    return _render(request, "plan.html", {
        "token": token, "meta": meta, "plan": p, "summary": view.summary, "counts": counts,
        "tab": cat, "rows": rows, "page": page, "pages": pages, "prev": page - 1, "next": page + 1 if page < pages else 0,
        "disables": disables, "guard": guard, "limit": limit, "empty": not p["changes"] and not p["groups"],
        "holder": lock_holder(state().ctx.inventory_dir), "job": job, "error": error,
        "categories": CATEGORIES}, status=status)


@need("hr")
@require_GET
def plan_view(request, token: str):
    return _plan_page(request, token)


@need("hr")
@require_GET
def plan_csv(request, token: str):
    """The plan as CSV for review in a spreadsheet (render.csv neutralises formula-like cells)."""
    from ..render.csv import to_csv

    d, p, meta = _load_plan(token)
    rows = []
    for c in p["changes"]:
        ch = "; ".join(f"{k}: {v[0]} -> {v[1]}" for k, v in c["changes"].items() if isinstance(v, list))
        rows.append([c["action"], c["hr_id"], c["uid"], c["unit"], c["name"], ch, c["reason"]])
    _note(request, "console-plan-export", "-", {"plan": token[:8]})
    resp = HttpResponse("\ufeff" + to_csv(["action", "hr_id", "uid", "unit", "name", "changes", "reason"], rows),
                        content_type="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = 'attachment; filename="plan.csv"'
    return resp


@need("hr")
@require_POST
def apply(request, token: str):
    st = state()
    d, p, meta = _load_plan(token)
    if token in st.jobs and st.jobs[token].state == "running":
        return HttpResponseRedirect(f"/accounts/plans/{token}")
    if (d / "status.json").exists():
        return HttpResponseRedirect(f"/accounts/plans/{token}")
    disables = _plan_view(token)[1].disables
    from ..accounts.plan import guard_limit

    limit = guard_limit(p["enabled_before"], None)
    yes, max_disable = False, None
    if disables > limit or (disables and disables == p["enabled_before"]):
        typed = request.POST.get("confirm_disable", "").strip()
        if typed != str(disables):
            return _plan_page(request, token, status=400, error=_t(request, "console.apply.guard", n=disables))
        yes, max_disable = True, str(disables)
    holder = lock_holder(st.ctx.inventory_dir)
    if holder:
        return _plan_page(request, token, status=409, error=_t(request, "console.apply.locked", who=holder))
    who = request.official
    job = st.jobs[token] = Job(token, who["uid"])
    roster_path = next(d.glob("roster.*"))
    kept_roster = _plan_view(token)[1].roster
    lang = lang_of(request)
    ip = client_ip(request)

    def progress(step) -> None:          # results.ProgressStep
        job.phase, job.done, job.total = step.phase, step.done or 0, step.total or 0

    def run() -> None:
        try:
            # the roster as read at the upload, unless this console restarted since (the file is the same)
            roster = kept_roster or accounts.read(st.ctx, roster_path)
            plan_, result, rd = accounts.apply(
                st.ctx, roster, yes=yes, max_disable=max_disable, lang=lang, progress=progress,
                expect=meta["fingerprint"], operator=who["uid"], source=ip,
                holder=f"{who['uid']} ({who.get('name', '')}), console")
            job.run = rd.name if rd else None
            job.state = "done" if (result is None or result.ok) else "failed"
            if result is not None and not result.ok:
                job.error = f"{len(result.failed)}"
        except LockHeld as e:
            job.state, job.error = "failed", i18n.t("console.apply.locked", lang, who=e.holder or "?")
        except accounts.DirectoryChanged:
            job.state, job.error = "failed", i18n.t("console.apply.changed", lang)
        except (BadInput, OperationFailed) as e:
            job.state, job.error = "failed", str(e)
        except Exception as e:  # the page must say it failed; the journal has what was done
            job.state, job.error = "failed", type(e).__name__
        st.write_json(d / "status.json", job)

    threading.Thread(target=run, name=f"apply-{token[:8]}", daemon=True).start()
    return HttpResponseRedirect(f"/accounts/plans/{token}")


def _job(token: str):
    st = state()
    job = st.jobs.get(token)
    if job is None:
        d = st.plan_dir(token)
        if d and (d / "status.json").exists():
            job = Job(**json.loads((d / "status.json").read_text(encoding="utf-8")))
    return job


@need("hr")
@require_GET
def progress(request, token: str):
    # polled every second during an apply: check the plan exists without parsing it (a 10,000-row
    # plan takes over a second to load, taken from the apply running in this same process)
    d = state().plan_dir(token)
    if d is None or not (d / "plan.json").is_file():
        raise Http404()
    job = _job(token)
    if job is None:
        raise Http404()
    if job.state != "running":
        resp = HttpResponse(status=204)
        resp.headers["HX-Redirect"] = f"/accounts/runs/{job.run}" if job.state == "done" and job.run \
            else f"/accounts/plans/{token}"
        if job.state == "done" and not job.run:
            resp.headers["HX-Redirect"] = f"/accounts/plans/{token}"
        return resp
    return _render(request, "progress.html", {"job": job, "token": token})


def _runs_dir() -> Path:
    return accounts_dir(state().ctx.inventory_dir) / "runs"


def _run_dir(stamp: str) -> Path | None:
    if not re.fullmatch(r"[0-9T:-]{10,25}", stamp or ""):
        return None
    d = _runs_dir() / stamp
    return d if d.is_dir() else None


@need("hr")
@require_GET
def run_view(request, stamp: str):
    d = _run_dir(stamp)
    if d is None:
        raise Http404()
    result = json.loads((d / "result.json").read_text(encoding="utf-8")) if (d / "result.json").exists() else {}
    sheets = sorted(p.stem for p in (d / "sheets").glob("*.html")) if (d / "sheets").is_dir() else []
    units = state().province.units
    return _render(request, "run.html", {"stamp": stamp, "result": result,
                                         "sheets": [(u, units[u].name if u in units else u) for u in sheets]})


@need("hr", "admin")
@require_GET
def sheet(request, unit: str):
    """A unit's printable password sheet: the given run's, else the newest one."""
    if not (allowed(request.official, "hr") or allowed(request.official, "admin", unit)):
        return forbidden(request)
    stamp = request.GET.get("run")
    if stamp:
        d = _run_dir(stamp)
        files = [d / "sheets" / f"{unit}.html"] if d else []
    else:
        files = sorted(_runs_dir().glob(f"*/sheets/{unit}.html"), reverse=True) if _runs_dir().is_dir() else []
    files = [f for f in files if f.is_file() and f.parent.parent.parent == _runs_dir()]
    if not files or unit not in state().province.units:
        raise Http404()
    f = files[0]
    _note(request, "console-sheet-download", "-", {"run": f.parent.parent.name}, unit=unit)
    resp = HttpResponse(f.read_bytes(), content_type="text/html; charset=utf-8")
    resp.headers["Content-Security-Policy"] = CSP_DOCUMENT
    resp.headers["Content-Disposition"] = f'inline; filename="{unit}.html"'
    return resp


# --- officials -------------------------------------------------------------------------------------

@need("hr", "admin")
@require_GET
def officials(request):
    q = unicodedata.normalize("NFC", request.GET.get("q", "")).strip()[:100]
    who = request.official
    hits = []
    if q:
        st = state()
        if who.get("hr"):
            hits = accounts.search(st.ctx, q)
        else:
            for u in who["admin_units"]:
                hits += accounts.search(st.ctx, q, unit=u)
    return _render(request, "officials.html", {"q": q, "hits": hits})


def _official_or_403(request, uid: str):
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", uid):
        raise Http404()
    info = accounts.official(state().ctx, uid)
    who = request.official
    if info is None:
        if who.get("hr"):
            raise Http404()
        return None, forbidden(request)   # a unit administrator learns nothing about other units
    if not (who.get("hr") or info["unit"] in who.get("admin_units", [])):
        return None, forbidden(request)
    return info, None


@need("hr", "admin")
@require_GET
def official(request, uid: str):
    info, denied = _official_or_403(request, uid)
    if denied:
        return denied
    return _render(request, "official.html", {"info": info, "has_totp": state().totp.secret(uid) is not None})


@need("hr", "admin")
@require_POST
def reset_password(request, uid: str):
    info, denied = _official_or_403(request, uid)
    if denied:
        return denied
    st = state()
    try:
        path = accounts.reset_password(st.ctx, uid, lang=lang_of(request), operator=request.official["uid"],
                                       source=client_ip(request))
    except BadInput as e:
        return _render(request, "official.html", {"info": info, "error": str(e)}, status=400)
    run = path.parent.parent.name
    return _render(request, "official.html", {"info": accounts.official(st.ctx, uid), "reset_run": run,
                                              "has_totp": st.totp.secret(uid) is not None})


@need("hr")
@require_POST
def reset_2fa(request, uid: str):
    info, denied = _official_or_403(request, uid)
    if denied:
        return denied
    st = state()
    done = st.totp.reset(uid)
    _note(request, "console-2fa-reset", uid, {"second_factor": "removed" if done else "none"}, unit=info["unit"],
          hr_id=info["hr_id"])
    return HttpResponseRedirect(f"/officials/{uid}")


@need("hr")
@require_GET
def journal_view(request):
    from ..accounts import journal

    rows = journal.read(state().ctx.inventory_dir)[-300:][::-1]
    return _render(request, "journal.html", {"rows": rows})


# --- reports and unit forms ------------------------------------------------------------------------

def _month(text: str) -> Month:
    if not MONTH_RE.match(text):
        raise Http404()
    try:
        return Month.parse(text)
    except BadInput:
        raise Http404() from None


def _this_month() -> Month:
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(ZoneInfo(state().province.info.timezone))
    return Month(now.year, now.month)


def _report_months() -> list[str]:
    from .. import paths

    base = paths.data_dir(state().ctx.inventory_dir, "report")
    return sorted((p.parent.name for p in base.glob("*/report.json") if MONTH_RE.match(p.parent.name)), reverse=True)


@need("office")
@require_GET
def reports(request):
    month = _this_month()
    return _render(request, "reports.html", {"months": _report_months(), "current": str(month)})


def _form_rows(month: Month):
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo(state().province.info.timezone)).date()
    rows = []
    for s in report_forms.states(state().province, month):
        status = s.status
        if status in ("missing", "draft") and today > month.deadline:
            status = "overdue"
        rows.append({"unit": s.unit, "name": s.unit_name, "status": status, "arrived": s.arrived})
    return rows


@need("office")
@require_GET
def report_view(request, month: str):
    m = _month(month)
    from .. import paths

    d = paths.data_dir(state().ctx.inventory_dir, "report") / str(m)
    report = json.loads((d / "report.json").read_text(encoding="utf-8")) if (d / "report.json").is_file() else None
    return _render(request, "report.html", {"month": str(m), "report": report, "forms": _form_rows(m),
                                            "files": [f for f in ("report.html", "report.xlsx", "report.pdf")
                                                      if (d / f).is_file()]})


@need("office")
@require_GET
def report_file(request, month: str, name: str):
    m = _month(month)
    from .. import paths

    if name not in ("report.html", "report.xlsx", "report.pdf"):
        raise Http404()
    f = paths.data_dir(state().ctx.inventory_dir, "report") / str(m) / name
    if not f.is_file():
        raise Http404()
    ctype = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[name.rsplit(".", 1)[1]]
    resp = HttpResponse(f.read_bytes(), content_type=ctype)
    resp.headers["Content-Security-Policy"] = CSP_DOCUMENT
    if not name.endswith(".html"):
        resp.headers["Content-Disposition"] = f'attachment; filename="{m}-{name}"'
    _note(request, "console-report-download", "-", {"month": str(m), "file": name})
    return resp


FORM_FIELDS = [(k, kind) for k, kind, editable in report_forms.FIELDS if editable and k != "submitted"]


@need("office", "admin")
@require_http_methods(["GET", "POST"])
def unit_form(request, unit: str, month: str):
    st = state()
    m = _month(month)
    who = request.official
    if unit not in st.province.units:
        return forbidden(request) if not who.get("office") else HttpResponse(status=404)
    can_edit = allowed(who, "admin", unit)
    if not (can_edit or who.get("office")):
        return forbidden(request)
    u = st.province.units[unit]
    problems: dict[str, str] = {}
    saved = None
    if request.method == "POST":
        if not can_edit:
            return forbidden(request)
        raw = {k: request.POST.get(k, "") for k, _ in FORM_FIELDS}
        for k, kind in FORM_FIELDS:
            if kind == "bool":
                raw[k] = {"yes": True, "no": False}.get(request.POST.get(k, ""), None)
        if request.POST.get("action") == "submit":
            form, problems = report_forms.submit(st.province, m, u, raw)
            if form:
                saved = "late" if form.late else "on_time"
                _note(request, "console-form-submit", "-", {"month": str(m), "late": form.late}, unit=unit)
        else:
            problems = report_forms.save_draft(st.province, m, u, raw)
            if not problems:
                saved = "draft"
                _note(request, "console-form-draft", "-", {"month": str(m)}, unit=unit)
    s = report_forms.unit_state(st.province, m, u)
    values = dict(s.values)
    if problems:
        values.update({k: request.POST.get(k, "") for k, _ in FORM_FIELDS})
    fields = [{"key": k, "kind": kind, "label": i18n.t(f"form.{k}", lang_of(request)), "value": values.get(k),
               "problem": k in problems} for k, kind in FORM_FIELDS]
    return _render(request, "form.html", {"unit": u, "month": str(m), "state": s, "fields": fields,
                                          "can_edit": can_edit, "saved": saved, "problems": problems,
                                          "deadline": m.deadline}, status=400 if problems else 200)


@need("hr", "admin", "office")
@require_GET
def unit_page(request, unit: str):
    """A unit's latest audit (grades, machines to fix) and verify results, and its forms."""
    from .. import paths
    from ..report.runs import unit_results

    st = state()
    who = request.official
    if not (who.get("hr") or who.get("office") or allowed(who, "admin", unit)):
        return forbidden(request)
    if unit not in st.province.units:
        raise Http404()
    try:
        res = unit_results(paths.data_dir(st.ctx.inventory_dir), unit)
    except BadInput as e:
        return _render(request, "error.html", {"message": str(e)}, status=500)
    return _render(request, "unit.html", {"unit": st.province.units[unit], "res": res})
