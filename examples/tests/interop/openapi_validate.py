"""Validates an OpenAPI document with openapi-spec-validator, which shares no code with courier.

usage: openapi_validate.py <document.json>
Exits 0 and prints OK when the document is valid OpenAPI; prints the first error otherwise.
"""
import json
import sys

from openapi_spec_validator import validate

with open(sys.argv[1]) as document:
    spec = json.load(document)
try:
    validate(spec)
except Exception as error:  # the validator's errors have no common base worth naming
    print("INVALID:", error)
    sys.exit(1)
print("OK")
