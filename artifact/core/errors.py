"""The one error type for mistakes a user can fix.

Every message is one line that names the file, field or option at fault and says what to do.
`artifact.cli` is the only place that catches these and prints them; everything else raises.

    ArtifactError
     +-- ConfigError        a profile, config file or command-line option is wrong
     +-- FormatError        a records/claims/verdicts file is malformed or of an unknown version
     +-- MissingInputError  a profile needs something that is not here (weights, data set, sensor)
     +-- UnsupportedError   a model/layer/setting the technique cannot handle
"""


class ArtifactError(Exception):
    """A mistake the user can fix; the message is one line naming the file/option and the fix."""


class ConfigError(ArtifactError):
    """A profile, config file or command-line option is wrong."""


class FormatError(ArtifactError):
    """A file the artifact reads is malformed or has an unknown format version."""


class MissingInputError(ArtifactError):
    """A profile needs an input (weights, data set, device) that is not present."""


class UnsupportedError(ArtifactError):
    """A technique was asked to handle a layer, model or setting it does not support."""
