"""Messages: SMS over SMPP and e-mail over SMTP, and the delivery state each message moves through.

Knows protocols, not debts or rules: `campaigns.messages` asks the compliance gate, writes the attempt and hands
the message to a channel here; what comes back (submit responses, delivery receipts, replies) updates it.
"""

from messaging.delivery import DeliveryEvent, DeliveryState, IllegalTransition, receipt_event, step
from messaging.optout import is_opt_out

__all__ = ["DeliveryEvent", "DeliveryState", "IllegalTransition", "is_opt_out", "receipt_event", "step"]
