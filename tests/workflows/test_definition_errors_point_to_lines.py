"""A broken definition file is reported as ``path:line: message`` at the faulty line."""

from __future__ import annotations

import pytest

from workflows.loader import CatalogueError, check_catalogue, format_issues, load_catalogue


def only_issue(path):
    issues = check_catalogue(path.parent)
    assert len(issues) == 1, format_issues(issues)
    issue = issues[0]
    assert issue.path == path
    return issue


def test_the_valid_baseline_has_no_issues(write_procedure):
    path = write_procedure()
    assert check_catalogue(path.parent) == []


def test_wrong_unit_is_reported_on_its_line(write_procedure, valid_procedure, line_number):
    text = valid_procedure.replace(
        "{amount: 2, unit: working_days}", "{amount: 2, unit: working_dayz}"
    )
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, "working_dayz")
    assert "versions[0].steps[1].budget.unit" in issue.message
    assert "working_days" in issue.message


def test_missing_name_is_reported_on_the_mapping_that_lacks_it(
    write_procedure, valid_procedure, line_number
):
    text = valid_procedure.replace('        name: "Ký duyệt"\n', "")
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, "id: approve")
    assert "required field 'name' is missing" in issue.message


def test_missing_top_level_name_is_reported(write_procedure, valid_procedure):
    text = valid_procedure.replace('name: "Thủ tục thử"\n', "")
    issue = only_issue(write_procedure(text))
    assert issue.line == 1
    assert "'name'" in issue.message


def test_district_level_is_refused_because_it_was_abolished(
    write_procedure, valid_procedure, line_number
):
    text = valid_procedure.replace("level: xa", "level: huyen")
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, "level: huyen")
    assert "district level" in issue.message
    assert "01/07/2025" in issue.message


def test_step_budgets_exceeding_the_limit_point_at_the_overflowing_step(
    write_procedure, valid_procedure, line_number
):
    text = valid_procedure.replace(
        "budget: {amount: 4, unit: working_hours}", "budget: {amount: 1, unit: working_days}"
    )
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, "budget: {amount: 1, unit: working_days}")
    assert "26 working hours" in issue.message
    assert "03 ngày làm việc = 24 h" in issue.message


def test_calendar_day_limits_are_checked_against_an_upper_bound(
    write_procedure, valid_procedure, line_number
):
    # 3 calendar days hold at most 24 office hours: 23 h of budgets pass, 25 h do not.
    text = valid_procedure.replace(
        "{amount: 3, unit: working_days}", "{amount: 3, unit: calendar_days}"
    )
    assert check_catalogue(write_procedure(text).parent) == []
    text = text.replace(
        "budget: {amount: 1, unit: working_hours}", "budget: {amount: 3, unit: working_hours}"
    )
    issue = only_issue(write_procedure(text))
    assert "upper bound for calendar days" in issue.message
    assert issue.line == line_number(text, "budget: {amount: 3, unit: working_hours}")


def test_yaml_syntax_error_is_reported_with_its_line(write_procedure, valid_procedure, line_number):
    text = valid_procedure.replace(
        'result: {type: "Giấy xác nhận"}', 'result: {type: "Giấy xác nhận"'
    )
    issue = only_issue(write_procedure(text))
    assert issue.message.startswith("YAML syntax error")
    assert line_number(text, "result:") <= issue.line <= line_number(text, "online:")


def test_duplicate_yaml_key_is_an_error_not_silently_merged(
    write_procedure, valid_procedure, line_number
):
    text = valid_procedure.replace("level: xa\n", "level: xa\nlevel: tinh\n")
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, "level: tinh")
    assert "duplicate key 'level'" in issue.message


def test_unquoted_code_read_as_a_number_is_explained(write_procedure, valid_procedure):
    text = valid_procedure.replace('code: "1.000001"', "code: 1.001190")
    issue = only_issue(write_procedure(text))
    assert issue.line == 1
    assert "quote it" in issue.message


def test_unknown_key_is_refused(write_procedure, valid_procedure, line_number):
    text = valid_procedure.replace("    online: none", "    online: none\n    onlne: full")
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, "onlne")
    assert "Extra inputs" in issue.message


def test_versions_out_of_order_point_at_the_later_listed_version(
    write_procedure, valid_procedure, line_number
):
    version = valid_procedure.split("versions:\n", 1)[1]
    older = version.replace("2025-07-01", "2024-01-01")
    text = valid_procedure + older
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, "2024-01-01")
    assert "oldest first" in issue.message


def test_duplicate_step_id_points_at_the_second_one(write_procedure, valid_procedure, line_number):
    text = valid_procedure.replace("- id: approve", "- id: appraise")
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, 'name: "Ký duyệt"') - 1
    assert "step id 'appraise' is used twice" in issue.message


def test_component_without_any_paper_is_refused(write_procedure, valid_procedure, line_number):
    text = valid_procedure.replace('{name: "Tờ khai", originals: 1}', '{name: "Tờ khai"}')
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, '{name: "Tờ khai"}')
    assert "originals + copies must be at least 1" in issue.message


def test_negative_fee_is_refused(write_procedure, valid_procedure, line_number):
    text = valid_procedure.replace(
        "    result:", '    fees: [{name: "Lệ phí", amount_vnd: -5000}]\n    result:'
    )
    issue = only_issue(write_procedure(text))
    assert issue.line == line_number(text, "amount_vnd: -5000")
    assert "greater than or equal to 0" in issue.message


def test_several_problems_in_several_files_are_all_reported(write_procedure, valid_procedure):
    """c.yaml is valid: the error lists only the two broken files, in name order."""
    write_procedure(valid_procedure.replace("level: xa", "level: huyen"), "a.yaml")
    write_procedure(
        valid_procedure.replace("online: none", "online: maybe").replace(
            '"1.000001"', '"1.000002"'
        ),
        "b.yaml",
    )
    path = write_procedure(valid_procedure.replace('"1.000001"', '"1.000003"'), "c.yaml")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path.parent)
    assert [issue.path.name for issue in caught.value.issues] == ["a.yaml", "b.yaml"]
    lines = str(caught.value).splitlines()
    assert lines[0].startswith(f"{path.parent / 'a.yaml'}:4: ")
    assert lines[1].startswith(f"{path.parent / 'b.yaml'}:13: ")


def test_issues_can_be_shown_relative_to_a_root(write_procedure, valid_procedure):
    path = write_procedure(valid_procedure.replace("level: xa", "level: huyen"))
    text = format_issues(check_catalogue(path.parent), root=path.parent.parent)
    assert text.startswith("catalogue/procedure.yaml:4: level: ")


def test_empty_directory_is_an_issue(tmp_path):
    issues = check_catalogue(tmp_path)
    assert len(issues) == 1 and issues[0].line is None
    assert "no procedure files" in issues[0].message
