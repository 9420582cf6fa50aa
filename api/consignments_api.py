"""Consignment intake and clearance over HTTP, under ``/api/v1/consignments``.

The single window posts declarations here; customs, quarantine and the labs
post their decisions; the other side answers at the zero line. Handlers only
translate between HTTP and :class:`smartgate.services.desk.ConsignmentDesk`,
which validates, persists and decides. Errors are RFC 9457 problem documents
with machine-readable extras (``errors`` for a rejected declaration,
``conflicting_fields`` for a 409 resend).

Declarations are validated by ``fleet.cargo.declarations`` (not by a pydantic model),
so the sender gets every problem at once with its field path; the small
decision bodies are pydantic models that forbid unknown fields.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ActionFailed, Ops, User, logged_in, require
from fleet.cargo.consignments import ConsignmentError, ConsignmentState, LabTest
from fleet.cargo.declarations import DeclarationError
from fleet.yard.policy import LiftEvent
from smartgate.services.desk import (
    ConsignmentDesk,
    DeskError,
    IntakeConflict,
    UnknownConsignment,
    UnknownReference,
    lift_view,
    record_view,
)
from smartgate.storage.store import ConsignmentRecord, StoreConflict

PROBLEM = "application/problem+json"
INTAKE_ACTOR = "single-window"

Text = Annotated[str, Field(min_length=1, max_length=500)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Annotated[str, Field(min_length=1, max_length=128)]
    reason: Text


class Decision(_Body):
    decision: Literal["cleared", "refused"]


class QuarantineDecision(Decision):
    certificate: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class LabResult(_Body):
    test: LabTest
    certificate: Annotated[str, Field(min_length=1, max_length=64)] | None  # null withdraws


class Note(_Body):
    pass


class Handover(_Body):
    accepted: bool


class OperatorNote(BaseModel):
    """A control-room action: the actor defaults to the logged-in user."""

    model_config = ConfigDict(extra="forbid")
    actor: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    reason: Text


class LiftReport(BaseModel):
    """A crane's (or yard operator's) report on a lift the desk ordered."""

    model_config = ConfigDict(extra="forbid")
    vehicle_id: Annotated[str, Field(min_length=1, max_length=64)]
    spot: Annotated[str, Field(min_length=1, max_length=64)]  # the loading spot's node id
    event: LiftEvent
    actor: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    reason: Text = "reported by the crane"


class Priority(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: Annotated[int, Field(ge=0, le=9)]
    reason: Text


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra},
        status_code=status,
        media_type=PROBLEM,
    )


def consignments_router(desk_of: Callable[[], ConsignmentDesk | None]) -> APIRouter:
    """The router; ``desk_of`` returns the running desk (None: no database configured).

    Reading needs a login; declarations and decisions need a controller (the
    single window and the agencies get controller accounts); hold, release and
    priority are control-room actions, audited.
    """
    router = APIRouter(
        prefix="/consignments", tags=["consignments"], dependencies=[Depends(logged_in)]
    )
    writer = [Depends(require("controller"))]
    refusals: dict[int | str, dict[str, Any]] = {403: {}, 404: {}, 409: {}, 503: {}}

    def audited(
        who: User,
        ops: Ops,
        action: str,
        cid: str,
        params: dict[str, Any],
        change: Callable[[ConsignmentDesk], ConsignmentRecord],
    ) -> JSONResponse:
        def attempt() -> ConsignmentRecord:
            desk = desk_of()
            if desk is None:
                raise ActionFailed(503, "this orchestrator has no database")
            try:
                return change(desk)
            except UnknownConsignment as e:
                raise ActionFailed(404, str(e)) from None
            except UnknownReference as e:
                raise ActionFailed(422, str(e)) from None
            except (ConsignmentError, DeskError, StoreConflict) as e:
                raise ActionFailed(409, str(e)) from None

        rec = ops.act(who, "controller", action, cid, params, attempt)
        return JSONResponse(record_view(rec, history=True))

    def run(action: Callable[[ConsignmentDesk], ConsignmentRecord]) -> JSONResponse:
        desk = desk_of()
        if desk is None:
            return problem(503, "Consignments unavailable", "this orchestrator has no database")
        try:
            rec = action(desk)
        except UnknownConsignment as e:
            return problem(404, "Not Found", str(e))
        except (ConsignmentError, DeskError, StoreConflict) as e:
            return problem(409, "Conflict with the consignment's state", str(e))
        return JSONResponse(record_view(rec, history=True))

    @router.post("", status_code=201, responses={200: {}, 409: {}, 422: {}}, dependencies=writer)
    async def declare(request: Request) -> JSONResponse:
        """Receive a declaration; idempotent by customs declaration number.

        201: created. 200: the same declaration was already received (nothing
        new). 409: a resend that differs; ``conflicting_fields`` lists what.
        422: invalid; ``errors`` lists every problem with its field path.
        """
        desk = desk_of()
        if desk is None:
            return problem(503, "Consignments unavailable", "this orchestrator has no database")
        try:
            data = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return problem(400, "Body is not JSON", str(e))
        try:
            result = desk.intake(data, actor=INTAKE_ACTOR)
        except DeclarationError as e:
            return problem(
                422,
                "Invalid declaration",
                str(e),
                errors=[{"field": path, "message": msg} for path, msg in e.problems],
            )
        except IntakeConflict as e:
            return problem(
                409,
                "Declaration conflicts with one already received",
                str(e),
                existing_id=e.existing_id,
                conflicting_fields=e.fields,
            )
        view = record_view(result.record, history=True)
        return JSONResponse(
            view,
            status_code=201 if result.created else 200,
            headers={"Location": f"/api/v1/consignments/{result.record.id}"},
        )

    @router.get("")
    def list_consignments(
        state: ConsignmentState | None = None,
        corridor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> JSONResponse:
        """Consignments, oldest declared first; filter by ``state`` and ``corridor``."""
        desk = desk_of()
        if desk is None:
            return problem(503, "Consignments unavailable", "this orchestrator has no database")
        recs = desk.find(
            state=state.value if state else None, corridor=corridor, limit=limit, offset=offset
        )
        return JSONResponse([record_view(r) for r in recs])

    @router.get("/{consignment_id}")
    def get_consignment(consignment_id: str) -> JSONResponse:
        """One consignment with its whole transition history (actor, time, reason)."""
        return run(lambda d: d.get(consignment_id))

    @router.post("/{consignment_id}/customs", dependencies=writer, responses=refusals)
    def customs(consignment_id: str, body: Decision) -> JSONResponse:
        """Customs' decision; ``refused`` after clearance holds the consignment."""
        return run(
            lambda d: d.customs(
                consignment_id,
                cleared=body.decision == "cleared",
                actor=body.actor,
                reason=body.reason,
            )
        )

    @router.post("/{consignment_id}/quarantine", dependencies=writer, responses=refusals)
    def quarantine(consignment_id: str, body: QuarantineDecision) -> JSONResponse:
        """Plant/health quarantine's decision, with the phytosanitary certificate number."""
        return run(
            lambda d: d.quarantine(
                consignment_id,
                cleared=body.decision == "cleared",
                certificate=body.certificate,
                actor=body.actor,
                reason=body.reason,
            )
        )

    @router.post("/{consignment_id}/lab-certificates", dependencies=writer, responses=refusals)
    def lab_certificate(consignment_id: str, body: LabResult) -> JSONResponse:
        """A lab certificate (e.g. durian: cadmium, auramine_o); ``null`` withdraws it."""
        return run(
            lambda d: d.lab_certificate(
                consignment_id,
                test=body.test,
                certificate=body.certificate,
                actor=body.actor,
                reason=body.reason,
            )
        )

    @router.post("/{consignment_id}/hold", responses=refusals)
    def hold(consignment_id: str, body: OperatorNote, who: User, ops: Ops) -> JSONResponse:
        """Hold for inspection: diverts it to the inspection zone (controller; audited)."""
        actor = body.actor or who.username
        return audited(
            who,
            ops,
            "consignment.hold",
            consignment_id,
            body.model_dump(exclude_none=True),
            lambda d: d.hold(consignment_id, actor=actor, reason=body.reason),
        )

    @router.post("/{consignment_id}/release", responses=refusals)
    def release(consignment_id: str, body: OperatorNote, who: User, ops: Ops) -> JSONResponse:
        """End an inspection hold: back where it was, or queued (controller; audited)."""
        actor = body.actor or who.username
        return audited(
            who,
            ops,
            "consignment.release",
            consignment_id,
            body.model_dump(exclude_none=True),
            lambda d: d.release(consignment_id, actor=actor, reason=body.reason),
        )

    @router.post("/{consignment_id}/priority", responses=refusals)
    def priority(consignment_id: str, body: Priority, who: User, ops: Ops) -> JSONResponse:
        """Re-prioritise (0..9, higher first among goods equally perishable; audited)."""

        return audited(
            who,
            ops,
            "consignment.priority",
            consignment_id,
            body.model_dump(),
            lambda d: d.set_priority(
                consignment_id, body.priority, actor=who.username, reason=body.reason
            ),
        )

    @router.post("/{consignment_id}/lift", responses={**refusals, 422: {}})
    def lift(consignment_id: str, body: LiftReport, who: User, ops: Ops) -> JSONResponse:
        """The crane system's (or a yard operator's) report on the lift the desk ordered
        when the vehicle reached the loading spot: ``started``, then ``done`` (loaded).
        The same report again changes nothing; 409 if it does not fit the lift ordered
        (another vehicle or spot, done before started, none ordered); 422 for an unknown
        vehicle or spot (controller; audited)."""
        actor = body.actor or who.username
        return audited(
            who,
            ops,
            f"consignment.lift_{body.event.value}",
            consignment_id,
            body.model_dump(exclude_none=True),
            lambda d: d.lift(
                consignment_id,
                vehicle_id=body.vehicle_id,
                spot=body.spot,
                event=body.event,
                actor=actor,
                reason=body.reason,
            ),
        )

    @router.post("/{consignment_id}/loaded", responses=refusals)
    def loaded(consignment_id: str, body: OperatorNote, who: User, ops: Ops) -> JSONResponse:
        """A yard operator confirms the loading ordered at the spot, where no crane
        system reports it (controller; audited)."""
        actor = body.actor or who.username
        return audited(
            who,
            ops,
            "consignment.loaded",
            consignment_id,
            body.model_dump(exclude_none=True),
            lambda d: d.confirm_loaded(consignment_id, actor=actor, reason=body.reason),
        )

    @router.post("/{consignment_id}/handover", dependencies=writer, responses=refusals)
    def handover(consignment_id: str, body: Handover) -> JSONResponse:
        """The other side's answer at the zero line: accepted (custody passes) or refused."""
        return run(
            lambda d: d.handover(
                consignment_id, accepted=body.accepted, actor=body.actor, reason=body.reason
            )
        )

    @router.post("/{consignment_id}/received", dependencies=writer, responses=refusals)
    def received(consignment_id: str, body: Note) -> JSONResponse:
        """The other side confirms it is in their yard (final)."""
        return run(lambda d: d.received(consignment_id, actor=body.actor, reason=body.reason))

    return router


def yard_router(desk_of: Callable[[], ConsignmentDesk | None]) -> APIRouter:
    """``/yard``: the cranes' work list (login needed)."""
    router = APIRouter(prefix="/yard", tags=["yard"], dependencies=[Depends(logged_in)])

    @router.get("/lifts")
    def open_lifts() -> JSONResponse:
        """Lifts ordered and not yet done, oldest first: what the cranes have to do."""
        desk = desk_of()
        if desk is None:
            return problem(503, "Yard unavailable", "this orchestrator has no database")
        return JSONResponse(
            [
                {"consignment_id": r.id, "corridor": r.consignment.corridor}
                | (lift_view(r.lift) or {})
                for r in desk.open_lifts()
            ]
        )

    return router
