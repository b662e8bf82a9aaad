"""Payment gateways: Razorpay Payment Links and the format of its webhooks."""
