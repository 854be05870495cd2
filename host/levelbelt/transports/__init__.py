"""Links to a belt. Each yields checked frame payloads and accepts frames to send.

`transport.Transport` is the async interface every link implements, chosen by a URI
(`ble:NAME-OR-ADDRESS`, `serial:PORT`, and `sim:` / `sim+ble:` for a simulated belt)
with `transport.open_transport`.
"""
