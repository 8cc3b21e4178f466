"""``motcua print …``: one form to a PDF, or a batch of them (registered in service/cli.py).

WeasyPrint and the database are imported inside the commands, so ``motcua --help`` and the
other commands stay fast.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.forms import Form

print_app = typer.Typer(
    help="In biểu mẫu (Mẫu 01–07, TT 01/2018 và TT 03/2025) ra PDF.", no_args_is_help=True)


class BatchForm(StrEnum):
    """The forms ``motcua print batch`` renders from the sample (names of :class:`Form`)."""

    apology = Form.APOLOGY.value
    register = Form.REGISTER.value
    receipt = Form.RECEIPT.value


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Lỗi: {message}", err=True)
    raise typer.Exit(code)


def _parse_day(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{what} phải có dạng YYYY-MM-DD: {value!r}")
        raise


def _engine():
    from engine.db import make_engine
    from engine.settings import load_settings

    return make_engine(load_settings().database_url)


def print_form(form: Form, *, dossier: str | None, sample: bool, output: Path,
               form_set: str | None = None, agency: str | None = None,
               date_from: str | None = None, date_to: str | None = None,
               copy: bool = False, user: str = "clerk", document_id: int | None = None) -> None:
    """The body of every ``motcua print FORM`` command."""
    from printouts.context import MissingDocument, build, register_context
    from printouts.fonts import FontMissing
    from printouts.forms import FormNotInSet
    from printouts.overrides import OverrideError

    source = agency if form is Form.REGISTER else dossier
    if sample == bool(source) or (form is Form.REGISTER and dossier):
        _fail("chọn một nguồn: --sample, hoặc --dossier MÃ (sổ theo dõi: --agency MÃ "
              "--from NGÀY --to NGÀY)")
    try:
        from printouts.render import Renderer

        renderer = Renderer()
        if sample:
            context = _sample_context(form, form_set)
        elif form is Form.REGISTER:
            first, last = _parse_day(date_from, "--from"), _parse_day(date_to, "--to")
            if first is None or last is None:
                _fail("sổ theo dõi hồ sơ cần --from và --to")
            context = _register_context(agency or "", first, last, form_set, register_context)
        else:
            context = _dossier_context(form, dossier or "", form_set, copy, user, document_id,
                                       build)
        renderer.pdf(context, output)
    except (FontMissing, FormNotInSet, MissingDocument, OverrideError) as exc:
        _fail(str(exc), 3)
    mark = " — BẢN SAO (đã ghi nhận lần in lại)" if context.get("copy") else ""
    typer.echo(f"Đã in {context['form']['label']} ({context['form']['circular']}){mark}: "
               f"{output}")


def _sample_context(form: Form, form_set: str | None):
    from printouts.context import build, register_context
    from printouts.load import options_for
    from printouts.sample import AGENCIES, CENTRE, sample_bundle, sample_options, sample_register

    real = options_for(AGENCIES)  # an override folder, if configured, wins over the sample's
    options = sample_options(real.base_url, dict(real.overrides), form_set)
    if form is Form.REGISTER:
        dossiers, first, last = sample_register(60)
        return register_context(CENTRE, dossiers, AGENCIES, date_from=first, date_to=last,
                                options=options)
    return build(form, sample_bundle(set_2018=form_set == "2018"), None, options)


def _register_context(agency: str, first: date, last: date, form_set: str | None, builder):
    from sqlmodel import Session

    from printouts.load import agencies_with_parents, options_for, register_dossiers

    with Session(_engine()) as session:
        dossiers = register_dossiers(session, agency, first, last)
        agencies = agencies_with_parents(session, [agency, *(d.competent_agency
                                                             for d in dossiers)])
        if agency not in agencies:
            _fail(f"không có cơ quan mã {agency!r}", 3)
        return builder(agency, dossiers, agencies, date_from=first, date_to=last,
                       options=options_for(agencies, form_set=form_set))


def _dossier_context(form: Form, code: str, form_set: str | None, copy: bool, user: str,
                     document_id: int | None, builder):
    from engine.db import session_scope
    from engine.lifecycle import Actor, record_reprint
    from engine.lifecycle.errors import NotFound
    from printouts.context import pick_document
    from printouts.load import document_by_id, load_bundle, options_for

    with session_scope(_engine()) as session:
        try:
            bundle = load_bundle(session, code)
        except NotFound as exc:
            _fail(exc.message, 3)
        options = options_for(bundle.agencies, form_set=form_set)
        document = None
        if form.issued:
            document = document_by_id(session, document_id) if document_id else None
            if document_id and (document is None or document.dossier_id != bundle.dossier.id):
                _fail(f"hồ sơ {code} không có văn bản số hiệu {document_id}", 3)
            document = pick_document(bundle, form, document)
            if copy:  # a reprint is recorded, then printed as "BẢN SAO"
                agency = bundle.dossier.receiving_agency
                document = record_reprint(session, document=document,
                                          actor=Actor(user, "clerk", agency))
        return builder(form, bundle, document, options)


def _register_form_commands() -> None:
    """One command per :class:`Form`, named by its value (``motcua print stop_notice``)."""
    helps = {
        Form.RECEIPT: "Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả (02 liên).",
        Form.SUPPLEMENT_REQUEST: "Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ.",
        Form.REFUSAL: "Mẫu 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ.",
        Form.APOLOGY: "Mẫu 04 — Phiếu xin lỗi (2018) / Văn bản xin lỗi và đề nghị gia hạn "
                      "(2025).",
        Form.STOP_NOTICE: "Mẫu 05 (2025) — Thông báo dừng giải quyết hồ sơ.",
        Form.CONTROL: "Mẫu 05 (2018) / 06 (2025) — Phiếu kiểm soát quá trình giải quyết hồ sơ.",
        Form.REGISTER: "Mẫu 06 (2018) / 07 (2025) — Sổ theo dõi hồ sơ (A4 ngang).",
    }
    for form in Form:
        print_app.command(form.value, help=helps[form])(_form_command(form))


def _form_command(name: Form):
    def command(
        output: Annotated[Path, typer.Option("--output", "-o", help="PDF file to write.")],
        dossier: Annotated[str | None, typer.Option(help="Dossier code (reads "
                                                         "MOTCUA_DATABASE_URL).")] = None,
        sample: Annotated[bool, typer.Option(help="Use the built-in sample.")] = False,
        form_set: Annotated[str | None, typer.Option(
            "--set", help="Force the form set: 2018 or 2025 (default: by receipt date).")
                            ] = None,
        agency: Annotated[str | None, typer.Option(help="Register: agency code.")] = None,
        date_from: Annotated[str | None, typer.Option("--from", help="Register: first day "
                                                                     "(YYYY-MM-DD).")] = None,
        date_to: Annotated[str | None, typer.Option("--to", help="Register: last day.")
                           ] = None,
        copy: Annotated[bool, typer.Option(help="Reprint: record a copy and mark it "
                                                "'BẢN SAO'.")] = False,
        user: Annotated[str, typer.Option(help="Who reprints (with --copy).")] = "clerk",
        document: Annotated[int | None, typer.Option(help="Issued document id (default: the "
                                                          "latest original).")] = None,
    ) -> None:
        print_form(name, dossier=dossier, sample=sample, output=output, form_set=form_set,
                   agency=agency, date_from=date_from, date_to=date_to, copy=copy, user=user,
                   document_id=document)

    return command


_register_form_commands()


@print_app.command("batch")
def batch(
    form: Annotated[BatchForm, typer.Argument(help="apology, register or receipt.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the PDFs.")],
    count: Annotated[int, typer.Option(help="How many documents (sample data).")] = 1000,
    workers: Annotated[int | None, typer.Option(help="Processes (default: all cores).")
                       ] = None,
) -> None:
    """Render COUNT sample documents on every core, with a progress bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from printouts.batch import render_batch, sample_jobs
    from printouts.fonts import FontMissing, find_fonts

    if count < 1:
        _fail("--count phải lớn hơn 0")
    try:
        find_fonts()  # before starting workers: a clear error, not a broken pool
    except FontMissing as exc:
        _fail(str(exc), 3)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), transient=False) as progress:
        jobs = sample_jobs(form.value, count)
        task = progress.add_task(f"In {form.value}", total=len(jobs))
        result = render_batch(jobs, output, workers=workers,
                              on_progress=lambda n: progress.advance(task, n))
    typer.echo(f"Đã in {result.documents} văn bản vào {output} trong {result.seconds:.1f} s "
               f"({result.per_second:.1f} văn bản/giây, {result.workers} tiến trình).")
