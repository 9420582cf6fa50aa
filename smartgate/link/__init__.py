"""The handoff link with the other side: protobuf over mutual-TLS WebSocket, and the
reference peer."""
