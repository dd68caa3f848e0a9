"""Live sources: the wire format, the connector interface and its transports.

* :mod:`.payload`: the topic scheme ``shopfloor/<plant>/<line>/<asset>/<channel>``, the compact
  binary payload of a waveform block and the JSON payload of a scalar reading.
* :mod:`.connector`: :class:`Record` (one decoded message), the :class:`Connector` every source
  implements (open/close, sync and async iteration) and the in-memory transport tests use.
* :mod:`.mqtt`: the MQTT transport (paho-mqtt; QoS 1, acknowledged only after the consumer says
  the record is stored; reconnect with back-off) and an embedded broker (amqtt).
* :mod:`.opcua`: the OPC UA transport (asyncua subscriptions, browse, re-subscribe after a
  reconnect); :mod:`.opcua_server`: the simulator served as an OPC UA server.
* :mod:`.folder`: a watched folder of CSV/Parquet drops, each file read once
  (:mod:`.folder_config`: the watch file; :mod:`.folder_journal`: the record of files handled).
* :mod:`.fleet_config`: the file that maps topics to the canonical data model.
* :mod:`.simulator`: a fleet of degrading motors, published block by block.
"""
