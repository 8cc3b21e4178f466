"""Server-rendered pages in Vietnamese: login, the counter, the inbox, the dashboard, the
citizen lookup and administration. Pages call the same JSON API as any client, with the
session cookie and a CSRF token instead of a bearer token."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from engine.clock import Classification, EventKind
from engine.clock import Flag as ClockFlag
from engine.deadline import TimeUnit
from engine.forms import Form as LegalForm  # fastapi's Form reads posted fields
from engine.lifecycle.states import Channel, LifecycleFlag, ReturnMethod
from engine.lifecycle.urgency import Urgency
from engine.outbox import Channel as MessageChannel
from engine.timezone import now_local
from engine.users import Role, User
from service.clientip import client_address
from service.deps import SessionDep, check_csrf, csrf_token, now, web_user
from service.login import check_login, start_session
from service.problems import Problem
from service.publicview import NOT_FOUND, guarded_lookup, public_view
from service.reads import page_reads
from service.sessions import WEB, revoke_session
from workflows.schema import Level

TEMPLATES = Jinja2Templates(directory=Path(__file__).parents[1] / "templates")
router = APIRouter(include_in_schema=False)

HOME = {Role.CLERK: "/quay", Role.OFFICER: "/hop-thu", Role.LEADER: "/hop-thu",
        Role.AUDITOR: "/kiem-soat", Role.ADMIN: "/quan-tri"}
NAV = {
    Role.CLERK: [("/quay", "Tiếp nhận"), ("/hop-thu", "Hồ sơ"), ("/tra-ket-qua", "Trả kết quả"),
                 ("/tinh-han", "Tính ngày hẹn")],
    Role.OFFICER: [("/hop-thu", "Hộp thư xử lý"), ("/tinh-han", "Tính ngày hẹn")],
    Role.LEADER: [("/hop-thu", "Hộp thư xử lý"), ("/kiem-soat", "Thống kê"),
                  ("/tinh-han", "Tính ngày hẹn")],
    Role.AUDITOR: [("/kiem-soat", "Thống kê"), ("/hop-thu", "Hồ sơ")],
    Role.ADMIN: [("/quan-tri", "Quản trị"), ("/quan-tri/lich", "Lịch làm việc"),
                 ("/quan-tri/danh-muc", "Danh mục thủ tục"),
                 ("/quan-tri/thong-bao", "Thông báo gửi lỗi")],
}
PUBLIC_NAV = [("/", "Tra cứu hồ sơ"), ("/nop-ho-so", "Nộp hồ sơ trực tuyến"),
              ("/tinh-han", "Tính ngày hẹn")]


class LoginRequired(Exception):
    """A page needs a signed-in user; the handler redirects to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def page_user(request: Request, session, *roles: Role) -> User:
    """The signed-in user of a page (or a redirect to login); 403 page for a wrong role."""
    user = web_user(request, session)
    if user is None:
        raise LoginRequired(str(request.url.path) + (f"?{request.url.query}"
                                                     if request.url.query else ""))
    if roles and user.role not in {r.value for r in roles}:
        raise Problem(403, "forbidden", "Trang này không dành cho vai trò của bạn.")
    return user


#: The words the pages' scripts show for the API's codes, all from the enums' ``label_vi``.
VOCAB = {
    "urgency": {u.value: u.label_vi for u in Urgency},
    "classification": {c.value: c.label_vi for c in Classification},
    "end_kind": {k.value: k.label_vi for k in EventKind},
    "flag": {f.value: f.label_vi for f in (*ClockFlag, *LifecycleFlag)},
    "unit": {u.value: u.label_vi for u in TimeUnit},
    "channel": {c.value: c.label_vi for c in Channel},
    "return_method": {m.value: m.label_vi for m in ReturnMethod},
    "notice": {c.value: c.applicant_label_vi for c in MessageChannel},
    "level": {lv.value: lv.label_vi for lv in Level},
}


def bell_unread(request: Request, user: User | None) -> int | None:
    """The bell's badge on every staff page (``engine.timed.bell``): my unread messages; the
    list itself loads when the bell is opened (``/api/v1/notifications``)."""
    if user is None:
        return None
    from sqlmodel import Session

    from engine.timed.bell import unread_count

    with Session(request.app.state.engine) as session:
        return unread_count(session, user.username)


def render(request: Request, template: str, user: User | None, active: str = "",
           status_code: int = 200, **context: Any) -> HTMLResponse:
    role = Role(user.role) if user else None
    return TEMPLATES.TemplateResponse(request, template, {
        "user": user, "role": role.value if role else None,
        "role_label": role.label_vi if role else "",
        "nav": NAV[role] if role else PUBLIC_NAV, "active": active,
        "csrf": csrf_token(request), "vocab": VOCAB,
        "bell_unread": bell_unread(request, user), **context,
    }, status_code=status_code)


# ----- sign in and out --------------------------------------------------------------------

@router.get("/dang-nhap", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> HTMLResponse:
    return render(request, "login.html", None, active="/dang-nhap", next=next, error=None)


@router.post("/dang-nhap")
def login(request: Request, session: SessionDep,
          username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)],
          csrf: Annotated[str, Form(max_length=64)] = "",
          next: Annotated[str, Form(max_length=500)] = "") -> Response:
    check_csrf(request, csrf)
    try:
        user = check_login(request, session, username, password)
    except Problem as refused:
        page = render(request, "login.html", None, next=next, status_code=refused.status,
                      error=refused.detail)
        if refused.status == 429 and refused.headers:
            page.headers["Retry-After"] = refused.headers["Retry-After"]
        return page
    previous = request.session.get("sid")
    if isinstance(previous, str):  # signing in again on this browser ends the old session
        revoke_session(session, previous, now(request), user.username, "replaced")
    request.session.clear()
    request.session["sid"] = start_session(request, session, user, WEB).id
    target = next if next.startswith("/") and not next.startswith("//") else HOME[Role(user.role)]
    return RedirectResponse(target, status_code=303)


@router.post("/dang-xuat")
def logout(request: Request, session: SessionDep,
           csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Revoke the session record, not just the cookie: a copy of the cookie dies too."""
    check_csrf(request, csrf)
    user = web_user(request, session)
    if user is not None:
        revoke_session(session, request.state.auth_session_id, now(request), user.username,
                       "logout")
    request.session.clear()
    return RedirectResponse("/", status_code=303)


# ----- public pages -----------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    user = web_user(request, session)
    if user is not None:
        return RedirectResponse(HOME[Role(user.role)], status_code=303)
    return render(request, "lookup.html", None, active="/", result=None, error=None,
                  code="", secret="")


@router.get("/tra-cuu", response_class=HTMLResponse)
def citizen_lookup(request: Request, session: SessionDep,
                   ma: Annotated[str, Query(max_length=64)] = "",
                   k: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    """The citizen's page (the receipt's QR code points here): status in plain Vietnamese."""
    code, secret = ma.strip(), k.strip()
    if not code or not secret:
        return render(request, "lookup.html", None, active="/", result=None, code=code,
                      secret=secret, error="Vui lòng nhập mã hồ sơ và mã tra cứu in trên "
                                           "Giấy tiếp nhận." if (code or secret) else None)
    try:  # the same limits as the API: per code and per address, wrong secrets only
        result = public_view(session, guarded_lookup(session, request.app.state.limits, code,
                                                     secret, client_address(request)))
    except Problem as exc:
        limited = exc.status == 429
        page = render(request, "lookup.html", None, active="/", result=None, code=code,
                      secret=secret, status_code=exc.status if limited else 404,
                      error="Bạn tra cứu quá nhiều lần; vui lòng thử lại sau ít phút."
                      if limited else NOT_FOUND)
        if limited:
            page.headers.update(exc.headers or {})
        return page
    return render(request, "lookup.html", None, active="/", result=result, code=code,
                  secret=secret, error=None)


@router.get("/nop-ho-so", response_class=HTMLResponse)
def submit_online(request: Request, session: SessionDep) -> HTMLResponse:
    """Nộp hồ sơ trực tuyến: the citizen's form without login (docs/online.md "Pages"); the
    page itself calls the public submission API, so it needs nothing from the server here."""
    return render(request, "submit.html", web_user(request, session), active="/nop-ho-so")


@router.get("/tinh-han", response_class=HTMLResponse)
def calculator(request: Request, session: SessionDep) -> HTMLResponse:
    """Tính ngày hẹn trả: the quick deadline calculator."""
    user = web_user(request, session)
    return render(request, "calculator.html", user, active="/tinh-han",
                  now=now_local().strftime("%Y-%m-%dT%H:%M"),
                  units=[(u.value, u.label_vi) for u in TimeUnit])


# ----- error pages ------------------------------------------------------------------------

#: What a person can do about an error, by status (``error.html``).
ERROR_ADVICE = {
    400: "Yêu cầu gửi lên không đúng. Hãy tải lại trang rồi thử lại.",
    401: "Hãy đăng nhập để tiếp tục.",
    403: "Tài khoản của bạn không được mở trang hoặc làm thao tác này. Hãy dùng các mục trên "
         "thanh chức năng, hoặc đăng nhập bằng tài khoản có quyền.",
    404: "Địa chỉ có thể bị gõ sai, hoặc trang đã được chuyển đi. Hãy kiểm tra lại địa chỉ "
         "hoặc về trang chính.",
    405: "Trang này không mở được theo cách đó (ví dụ gõ thẳng địa chỉ của một nút bấm). Hãy "
         "quay lại và dùng nút trên trang.",
    409: "Hồ sơ vừa thay đổi hoặc thao tác không còn phù hợp. Hãy tải lại trang hồ sơ.",
    413: "Nội dung gửi lên quá lớn. Hãy gửi tệp hoặc nội dung nhỏ hơn.",
    422: "Một số thông tin chưa hợp lệ. Hãy quay lại, sửa rồi gửi lại.",
    429: "Bạn thao tác quá nhiều lần trong thời gian ngắn. Hãy đợi ít phút rồi thử lại.",
    500: "Hệ thống gặp lỗi ngoài dự kiến và đã ghi lại. Hãy thử lại sau ít phút; nếu vẫn lỗi, "
         "báo quản trị kèm mã yêu cầu bên dưới.",
    503: "Hệ thống tạm thời chưa phục vụ được. Hãy thử lại sau ít phút.",
}


def _error_user(request: Request) -> tuple[User | None, int | None]:
    """Who is signed in, for the navigation (and the bell), or nobody: an error page must
    draw even when the error is the database's."""
    from sqlmodel import Session

    try:
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            user = web_user(request, session)
        return user, bell_unread(request, user)
    except Exception:
        return None, None


def error_page(request: Request, status: int, title: str, detail: str | None,
               headers: dict[str, str] | None, extra: dict[str, Any]) -> HTMLResponse:
    """An error as a Vietnamese page with the navigation of whoever is signed in
    (``service.problems.answer`` calls it for browsers; programs get problem+json)."""
    user, unread = _error_user(request)
    role = Role(user.role) if user else None
    home = (HOME[role], "Về trang làm việc") if role else ("/", "Về trang tra cứu hồ sơ")
    page = TEMPLATES.TemplateResponse(request, "error.html", {
        "user": user, "role": role.value if role else None,
        "role_label": role.label_vi if role else "",
        "nav": NAV[role] if role else PUBLIC_NAV, "active": "",
        "csrf": csrf_token(request) if "session" in request.scope else "",
        "vocab": VOCAB, "bell_unread": unread, "status": status, "title": title,
        "detail": detail, "advice": ERROR_ADVICE.get(status, ""), "home": home,
        "messages": [e["message"] for e in extra.get("errors") or () if "message" in e],
        "sign_in": None if user else "/dang-nhap?next=" + quote(request.url.path),
        "request_id": getattr(request.state, "request_id", None),
    }, status_code=status)
    for name, value in (headers or {}).items():
        page.headers[name] = value
    return page


def install(app) -> None:
    """Add the pages, the login redirect and the error pages to ``app``."""
    app.include_router(router)
    app.state.error_page = error_page

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/dang-nhap?next={quote(exc.next_url)}", status_code=303)


# ----- work pages -------------------------------------------------------------------------

#: The names of a dossier's printable forms, by ``IssuedDocument.form`` (the register is an
#: agency's, not a dossier's).
FORM_LABELS = {f.value: f.label_vi for f in LegalForm if f is not LegalForm.REGISTER}


@router.get("/quay", response_class=HTMLResponse)
def counter(request: Request, session: SessionDep) -> HTMLResponse:
    """The reception clerk's screen: find a procedure, check components, receive/guide/refuse."""
    from engine.agencies import Agency
    from service.validation import PROVINCE_CODES

    user = page_user(request, session, Role.CLERK)
    agency = session.get(Agency, user.agency_code)
    return render(request, "counter.html", user, active="/quay",
                  agency_name=agency.name if agency else user.agency_code,
                  provinces=sorted(PROVINCE_CODES))


def _inbox(request: Request, session, user: User, title: str, active: str,
           preset_state: str = "", returns: bool = False) -> HTMLResponse:
    """The queue page; ``returns``: the counter's variant (/tra-ket-qua) — results to hand
    back and supplements awaited, with the appointment and a button per line."""
    from engine.lifecycle.states import State
    from engine.users import assignable_users

    # The bulk "giao cho" list: the agency's active officers and leaders, the people the
    # server accepts for an assign (service/choices.py); inactive people are not offered.
    officers = assignable_users(session, user.agency_code)
    return render(request, "inbox.html", user, active=active, title=title, officers=officers,
                  preset_state=preset_state, returns=returns,
                  states=[(s.value, s.label_vi) for s in State if s is not State.NEW])


@router.get("/hop-thu", response_class=HTMLResponse)
def inbox(request: Request, session: SessionDep) -> HTMLResponse:
    """Officers' inbox ordered by urgency (clerks and auditors see their scope the same way)."""
    user = page_user(request, session, Role.OFFICER, Role.LEADER, Role.CLERK, Role.AUDITOR)
    title = "Hộp thư xử lý" if user.role in (Role.OFFICER, Role.LEADER) else "Hồ sơ"
    return _inbox(request, session, user, title, "/hop-thu")


@router.get("/tra-ket-qua", response_class=HTMLResponse)
def returns(request: Request, session: SessionDep) -> HTMLResponse:
    """Results waiting at the counter and dossiers waiting for the applicant's supplement."""
    user = page_user(request, session, Role.CLERK)
    return _inbox(request, session, user, "Trả kết quả và nhận bổ sung", "/tra-ket-qua",
                  returns=True)


@router.get("/ho-so/{code}", response_class=HTMLResponse)
def dossier_page(code: str, request: Request, session: SessionDep) -> HTMLResponse:
    from engine.lifecycle.states import Action

    user = page_user(request, session, Role.CLERK, Role.OFFICER, Role.LEADER, Role.AUDITOR)
    reads = page_reads(request, session, user, code)  # journals the view; rows for auditors
    return render(request, "dossier.html", user, active="/hop-thu", code=code,
                  action_labels={a.value: a.label_vi for a in Action},
                  form_labels=FORM_LABELS, reads=reads)


# ----- administration ---------------------------------------------------------------------

def _agencies(session) -> list[tuple[str, str]]:
    from sqlmodel import col, select

    from engine.agencies import Agency

    return [(a.code, a.name) for a in session.exec(select(Agency).order_by(col(Agency.code)))]


@router.get("/quan-tri", response_class=HTMLResponse)
def admin_users(request: Request, session: SessionDep) -> HTMLResponse:
    user = page_user(request, session, Role.ADMIN)
    return render(request, "admin_users.html", user, active="/quan-tri",
                  agencies=_agencies(session), roles=[(r.value, r.label_vi) for r in Role])


@router.get("/quan-tri/lich", response_class=HTMLResponse)
def admin_calendar(request: Request, session: SessionDep) -> HTMLResponse:
    from engine.calendar import DayKind

    user = page_user(request, session, Role.ADMIN)
    kinds = {"holiday": "Ngày lễ, Tết", "compensatory": "Nghỉ bù",
             "swapped_off": "Nghỉ hoán đổi", "makeup_workday": "Ngày làm bù",
             "local_off": "Nghỉ riêng của cơ quan"}
    return render(request, "admin_calendar.html", user, active="/quan-tri/lich",
                  agencies=_agencies(session), kinds=[(k.value, kinds[k.value]) for k in DayKind],
                  year=now_local().year)


@router.get("/quan-tri/danh-muc", response_class=HTMLResponse)
def admin_catalogue(request: Request, session: SessionDep) -> HTMLResponse:
    user = page_user(request, session, Role.ADMIN)
    return render(request, "admin_catalogue.html", user, active="/quan-tri/danh-muc")


@router.get("/quan-tri/thong-bao", response_class=HTMLResponse)
def admin_deliveries(request: Request, session: SessionDep) -> HTMLResponse:
    """Failed deliveries (dead letters) with a retry button; other states on request."""
    from engine.outbox import DeliveryState

    user = page_user(request, session, Role.ADMIN)
    return render(request, "admin_deliveries.html", user, active="/quan-tri/thong-bao",
                  states=[(s.value, s.label_vi) for s in DeliveryState])


@router.get("/kiem-soat", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep) -> HTMLResponse:
    """The auditors' (and leaders') dashboard: figures, charts, every number drillable."""
    from sqlmodel import select

    from engine.procedures import ProcedureVersionRow

    user = page_user(request, session, Role.AUDITOR, Role.LEADER)
    today = now_local().date()
    labels = dict(_agencies(session))
    labels.update({r.code: r.name for r in session.exec(select(ProcedureVersionRow))})
    # Dates as people type them (dd/mm/yyyy, whatever the browser's language); the quarter and
    # year presets offer this year and the five before it.
    return render(request, "dashboard.html", user, active="/kiem-soat", labels=labels,
                  date_from=today.replace(month=1, day=1).strftime("%d/%m/%Y"),
                  date_to=today.strftime("%d/%m/%Y"), today=today.isoformat(),
                  years=list(range(today.year, today.year - 6, -1)))
