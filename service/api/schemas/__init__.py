"""The shapes of the JSON the API answers: one module per route module (``auth`` for
``service/api/auth.py``…), ``common`` for the base class and the date strings, ``deadline``
for the explanation of a due date (the calculator and the counter's receipt both show it).

Routes declare them as their response model, so ``/openapi.json`` shows each answer's fields
and schemathesis checks every answer against them (tests/service/test_api_schemathesis.py).
Input models stay beside their routes.
"""
