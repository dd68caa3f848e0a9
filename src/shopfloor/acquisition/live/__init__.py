"""Live sources: the wire format, the connector interface and its transports.

* :mod:`.payload`: the topic scheme ``shopfloor/<plant>/<line>/<asset>/<channel>``, the compact
  binary payload of a waveform block and the JSON payload of a scalar reading.
* :mod:`.connector`: :class:`Record` (one decoded message), the :class:`Connector` every source
  implements (open/close, sync and async iteration) and the in-memory transport tests use.
* :mod:`.mqtt`: the MQTT transport (aiomqtt; QoS 1, acknowledged only after the consumer says
  the record is stored; reconnect with back-off) and an embedded broker (amqtt).
* :mod:`.fleet_config`: the file that maps topics to the canonical data model.
"""
