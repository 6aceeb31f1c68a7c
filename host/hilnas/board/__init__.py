"""Talking to boards: profiles, transport, wire protocol, client, QEMU, flashing, builds.

Layers, bottom up: :mod:`.transport` moves bytes (pyserial URL: a serial port,
``socket://`` to QEMU, ``loop://`` in unit tests), :mod:`.protocol` turns bytes
into frames and back (firmware/PROTOCOL.md), :mod:`.client` speaks commands,
:mod:`.profile` runs one profiling job. :mod:`.qemu`, :mod:`.flash` and
:mod:`.build` get the firmware onto a board.
"""
