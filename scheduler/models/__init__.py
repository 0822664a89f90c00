"""Every domain word of DESIGN.md as a typed model. Importing this registers them all."""

from scheduler.models.appointment import ACTIVE, CHANNELS, STATUSES, Appointment
from scheduler.models.audit import AuditEntry
from scheduler.models.case import Case, CaseEvent, Customer, Vehicle
from scheduler.models.catalog import URGENCIES, JobType, Symptom
from scheduler.models.direct_line import DirectLineRequest
from scheduler.models.drive_in import DriveIn
from scheduler.models.feedback import STAGES, Feedback
from scheduler.models.garage import ClosedDay, Garage, OpeningHours
from scheduler.models.message import MESSAGE_KINDS, MESSAGE_STATUSES, Message
from scheduler.models.network import NetworkStamp
from scheduler.models.notice import NOTICE_KINDS, GarageNotice
from scheduler.models.override import KINDS, Override, OverrideOutcome
from scheduler.models.policy import Policy
from scheduler.models.preview import PREVIEW_KINDS, PREVIEW_STATUSES, PlanPreview
from scheduler.models.replay import Replay, ReplayPart
from scheduler.models.technician import Absence, ShiftPattern, Skill, Technician
from scheduler.models.user import GARAGE_ROLES, ROLES, ApiToken, User, UserSession

__all__ = [
    "ACTIVE", "CHANNELS", "GARAGE_ROLES", "KINDS", "ROLES", "STAGES", "STATUSES", "URGENCIES",
    "Absence", "ApiToken", "Appointment", "AuditEntry", "ClosedDay", "Case", "CaseEvent", "Customer", "DirectLineRequest",
    "DriveIn", "Feedback", "Garage", "GarageNotice", "NOTICE_KINDS", "JobType", "MESSAGE_KINDS", "MESSAGE_STATUSES", "Message", "NetworkStamp",
    "OpeningHours", "Override", "OverrideOutcome", "PREVIEW_KINDS", "PREVIEW_STATUSES", "PlanPreview", "Policy", "Replay", "ReplayPart",
    "ShiftPattern",
    "Skill", "Symptom", "Technician", "User", "UserSession", "Vehicle",
]
