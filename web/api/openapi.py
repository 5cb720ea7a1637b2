"""The OpenAPI 3.1 description of ``/api/v1`` (hand-written; served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

_ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_COMMON = {"401": _ERROR, "404": _ERROR}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


_STR, _INT = {"type": "string"}, {"type": "integer"}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": _STR, "description": "Archive number, e.g. 2611-007"}
_ITEM = {"name": "item", "in": "path", "required": True, "schema": _STR, "description": "Item number, e.g. 2611-007-03"}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Dossier API", "version": "1",
             "description": "Complaint dossiers (一事一卷): registration, documents, search and the access log. "
                            "Every request is authorised and recorded in the access log."},
    "servers": [{"url": "/api/v1"}],
    "security": [{"token": []}],
    "paths": {
        "/dossiers": {
            "get": {"summary": "Dossiers the caller may see, newest first", "operationId": "listDossiers",
                    "parameters": [{"name": "state", "in": "query", "schema": _STR},
                                   {"name": "month", "in": "query", "schema": _STR, "description": "YYYY-MM"}],
                    "responses": {"200": _json(_obj(dossiers={"type": "array", "items": {"$ref": "#/components/schemas/DossierSummary"}})),
                                  "400": _ERROR, **_COMMON}},
            "post": {"summary": "Register a complaint (INT-F)", "operationId": "registerComplaint",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Registration"}}}},
                     "responses": {"201": _json({"$ref": "#/components/schemas/Dossier"}, "Registered"),
                                   "400": _ERROR, "422": _ERROR, **_COMMON}},
        },
        "/dossiers/{number}": {"get": {"summary": "One dossier: registration, timeline, deadlines, documents",
                                       "operationId": "getDossier", "parameters": [_NUMBER],
                                       "responses": {"200": _json({"$ref": "#/components/schemas/Dossier"}), **_COMMON}}},
        "/dossiers/{number}/documents": {"post": {
            "summary": "Upload files for filing: each is sealed and queued (202); a background worker files it",
            "operationId": "uploadDocuments", "parameters": [_NUMBER],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["files"],
                "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                               "kind": {"type": "string", "description": "Document kind for every file (default: classified)"}}}}}},
            "responses": {"202": _json(_obj(jobs={"type": "array", "items": {"$ref": "#/components/schemas/IntakeJob"}}),
                                       "Accepted: durable and queued; follow each status_url"),
                          "400": _ERROR, "409": _ERROR, "422": _ERROR, **_COMMON}}},
        "/intake/{job}": {"get": {"summary": "An upload's progress and outcome (queued, processing, filed, refused, failed)",
                                  "operationId": "getIntakeJob",
                                  "parameters": [{"name": "job", "in": "path", "required": True, "schema": _STR,
                                                  "description": "Job id from the upload's answer"}],
                                  "responses": {"200": _json({"$ref": "#/components/schemas/IntakeJob"}), **_COMMON}}},
        "/documents/{item}": {"get": {"summary": "A document's catalogue facts", "operationId": "getDocument",
                                      "parameters": [_ITEM],
                                      "responses": {"200": _json({"$ref": "#/components/schemas/Document"}), **_COMMON}}},
        "/documents/{item}/text": {"get": {"summary": "Extracted (or OCR) text", "operationId": "getDocumentText",
                                           "parameters": [_ITEM],
                                           "responses": {"200": _json(_obj(item_number=_STR, text=_STR, metadata={"type": "object"})), **_COMMON}}},
        "/documents/{item}/content": {"get": {"summary": "Download the original (logged as a download)",
                                              "operationId": "downloadDocument", "parameters": [_ITEM],
                                              "responses": {"200": {"description": "The original bytes; for a "
                                                                    "regulator, a PDF watermarked with name, grant and time",
                                                                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                                                            **_COMMON}}},
        "/search": {"get": {"summary": "Full-text search within the caller's scope, with facets and highlights",
                            "operationId": "search",
                            "parameters": [{"name": "q", "in": "query", "required": True, "schema": _STR},
                                           {"name": "page", "in": "query", "schema": _INT},
                                           {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                                           {"name": "sort", "in": "query", "schema": {"enum": ["relevance", "date_desc", "date_asc"]}}],
                            "responses": {"200": _json(_obj(total=_INT, page=_INT, pages=_INT, facets={"type": "object"},
                                                            hits={"type": "array", "items": {"type": "object"}})),
                                          "400": _ERROR, **_COMMON}}},
        "/audit": {"get": {"summary": "Access-log entries (auditors: all; regulators: their own)", "operationId": "readAuditLog",
                           "parameters": [{"name": "user", "in": "query", "schema": _STR},
                                          {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}}],
                           "responses": {"200": _json(_obj(entries={"type": "array", "items": {"type": "object"}})),
                                         "400": _ERROR, "403": _ERROR, **_COMMON}}},
        "/openapi.json": {"get": {"summary": "This description", "security": [], "operationId": "openapi",
                                  "responses": {"200": _json({"type": "object"})}}},
    },
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer", "description": "dos_… from `dossier token create`"}},
        "schemas": {
            "Error": _obj(error=_obj(code=_STR, message=_STR)),
            "Registration": {**_obj(matter=_STR, received_at=_STR, channel=_STR, complainant=_STR, complainant_contact=_STR,
                                    complainant_type=_STR, respondent=_STR, respondent_type=_STR, request=_STR,
                                    facts_and_reasons=_STR, event_on=_STR, evidence={"type": "array", "items": _STR},
                                    expected_remedy=_STR, receiving_officer=_STR, department=_STR, category=_STR,
                                    anonymous={"type": "boolean"}, collective_count=_INT, referring_body=_STR),
                             "required": ["matter"]},
            "DossierSummary": _obj(archive_number=_STR, state=_STR, matter=_STR, complainant=_STR, respondent=_STR,
                                   channel=_STR, received_at=_STR, documents=_INT, overdue={"type": "boolean"}),
            "Document": _obj(document_id=_STR, item_number=_STR, kind=_STR, filename=_STR, media_type=_STR, size=_INT,
                             sha256=_STR, outcome=_STR, ocr_confidence={"type": ["number", "null"]}),
            "IntakeJob": _obj(job=_STR, dossier=_STR, filename=_STR, size=_INT, sha256=_STR,
                              state={"enum": ["queued", "processing", "filed", "refused", "failed"]},
                              finished={"type": "boolean"}, outcome={"type": ["string", "null"]},
                              item_number={"type": ["string", "null"]}, message={"type": ["string", "null"]},
                              attempts=_INT, uploaded_by=_STR, created_at=_STR, finished_at={"type": ["string", "null"]},
                              children={"type": "array", "items": {"type": "object"}}, status_url=_STR),
            "Dossier": _obj(dossier_id=_STR, archive_number=_STR, state=_STR, registration={"$ref": "#/components/schemas/Registration"},
                            transitions={"type": "array", "items": {"type": "object"}},
                            deadlines={"type": "array", "items": {"type": "object"}},
                            documents={"type": "array", "items": {"$ref": "#/components/schemas/Document"}}),
        },
    },
}
