"""Links to a belt. Each yields checked frame payloads and accepts frames to send."""
