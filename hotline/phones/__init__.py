"""Real SIP phones (baresip) and test audio, for integration tests and the demo."""

from hotline.phones.baresip import BaresipPhone, PhoneError, PhoneEvent, PhonePorts, RegistrationError

__all__ = ["BaresipPhone", "PhoneError", "PhoneEvent", "PhonePorts", "RegistrationError"]
