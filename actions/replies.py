"""The response each core error gets, so every action answers the same mistake the same way."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot import errors

_RESPONSES: dict[type[errors.BotError], str] = {
    errors.InvalidSsoId: "utter_sso_invalid",
    errors.UnknownSsoId: "utter_sso_unknown",
    errors.SsoUnavailable: "utter_sso_unavailable",
    errors.TooManyOtpRequests: "utter_otp_too_many_requests",
    errors.SmsUnavailable: "utter_sms_unavailable",
    errors.InvalidOtpFormat: "utter_otp_format",
    errors.OtpIncorrect: "utter_otp_wrong",
    errors.OtpExpired: "utter_otp_expired",
    errors.NoPendingLink: "utter_otp_expired",
    errors.OtpLockedOut: "utter_otp_locked",  # before its parent, OtpAttemptsExceeded
    errors.OtpAttemptsExceeded: "utter_otp_attempts_exceeded",
    errors.NotLinked: "utter_not_linked",
    errors.UnknownBiller: "utter_biller_unknown",
    errors.InvalidConsumerNumber: "utter_consumer_number_invalid",
    errors.ConsumerNotFound: "utter_consumer_not_found",
    errors.BillerUnavailable: "utter_biller_unavailable",
    errors.PaymentGatewayUnavailable: "utter_payment_gateway_unavailable",
    errors.ReceiptNotFound: "utter_receipt_not_found",
    errors.SupplyDeskUnavailable: "utter_supply_desk_unavailable",
    errors.UnknownConnection: "utter_supply_unknown_connection",
}


def utter_error(dispatcher: CollectingDispatcher, error: errors.BotError, **values: Any) -> None:
    """Say the response for `error`; `values` fill the response's placeholders."""
    response = next(
        (name for kind, name in _RESPONSES.items() if isinstance(error, kind)),
        "utter_service_unavailable",
    )
    if isinstance(error, errors.OtpIncorrect):
        values.setdefault("attempts_left", error.attempts_left)
    if isinstance(error, errors.InvalidConsumerNumber):
        values.setdefault("param_name", error.biller.param_name)
        values.setdefault("rule", error.biller.describe_rule())
    dispatcher.utter_message(response=response, **values)
