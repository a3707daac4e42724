"""Gateway adapters (Stripe, PayPal, Square): each package moves money through one vendor and maps its errors."""
