"""Talking to boards: profiles, transport, wire protocol, client, QEMU, flashing, builds.

Layers, bottom up: :mod:`.transport` moves bytes (pyserial URL: a serial port,
``socket://`` to QEMU, a pty for the host build, ``loop://`` in unit tests),
:mod:`.protocol` turns bytes into frames and back (firmware/PROTOCOL.md),
:mod:`.client` speaks commands, :mod:`.session` boots or connects any board by
profile, :mod:`.measure` runs one measurement. :mod:`.qemu`, :mod:`.flash`
and :mod:`.build` get the firmware onto a board.

Command line::

    hilnas boards                                   # the 9 profiles
    hilnas firmware build --board mps2-an386        # cached by source hash
    hilnas flash --board nucleo-l4r5zi [--tool pyocd|openocd|st-flash]
    hilnas profile model.tflite --board mps2-an386 --check --json out.json
        [--runs N --warmup W --input x.npy --bulk --port /dev/ttyACM0]

From Python (many models on one boot, e.g. a latency table)::

    with open_board(load_profile("mps2-an386")) as session:
        for path in models:
            result = run_on_session(session, path, runs=5, warmup=1, check=True)

Real boards speak 115200 8N1 on the debugger's virtual COM port (profile
``transport.baud``), found by USB VID:PID unless ``--port`` is given.
"""
