"""Test data shared by several test packages: one four-step procedure (reception →
appraisal → approval → return) used by the lifecycle and report tests."""

PROCEDURE = {
    "code": "1.000001", "name": "Cấp giấy phép thử nghiệm", "field": "Thử nghiệm",
    "level": "tinh", "effective_from": "2019-01-01",
    "time_limit": {"amount": 5, "unit": "working_days"},
    "supplement_effect": "restart",
    "pause_reasons": ["Xác minh thực địa"],
    "components": [{"name": "Đơn đề nghị", "originals": 1, "copies": 0},
                   {"name": "Bản sao giấy tờ tùy thân", "originals": 0, "copies": 1}],
    "steps": [
        {"id": "receive", "name": "Tiếp nhận", "role": "clerk", "unit": "one_stop",
         "budget": {"amount": 4, "unit": "working_hours"},
         "actions": ["receive", "transfer", "refuse_at_reception"]},
        {"id": "appraise", "name": "Thẩm định", "role": "officer", "unit": "competent",
         "budget": {"amount": 3, "unit": "working_days"},
         "actions": ["forward", "request_supplement", "consult", "pause", "request_payment",
                     "finish"]},
        {"id": "approve", "name": "Ký duyệt", "role": "leader", "unit": "competent",
         "budget": {"amount": 1, "unit": "working_days"},
         "actions": ["finish", "send_back", "refuse", "forward"]},
        {"id": "return", "name": "Trả kết quả", "role": "clerk", "unit": "one_stop",
         "budget": {"amount": 4, "unit": "working_hours"}, "actions": ["return_result"]},
    ],
    "result": {"type": "Giấy phép", "is_document": True},
}
