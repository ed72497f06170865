"""EMULATED boards for tests, CI and dry runs: never hardware, and every record measured against them says so.

    board      an emulated board tree (L4T release, nvpmodel, clocks, thermal zones, serial number)
    sensors    emulated power-sensor trees (INA3221 for tx2/orin, RAPL for x86) and the writer that plays a waveform
    cli        `python -m artifact.device.emulation tx2|orin|x86 ROOT`: both trees, kept changing until stopped

Kept apart from `artifact.device.measure` (the real sensors' readers) so nothing that measures imports them; the
readers know an emulated tree only by its marker file (`sensors.MARKER`).
"""
