"""Celery entry point of the fingerprinter stage (queue `fingerprint`)."""

from services.fingerprinter.service import fingerprint_submission
from shared.celery_app import Queue
from shared.stage import stage_task

# The fast path takes milliseconds; the limit leaves room for the slower `shap` library path.
fingerprint_task = stage_task(Queue.FINGERPRINT, soft_time_limit=120, time_limit=150, durable=False)(
    fingerprint_submission
)
