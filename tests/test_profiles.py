import pytest

from artifact.core.errors import ConfigError
from artifact.core.profiles import available_profiles, load_profile
from artifact.core.techniques import TECHNIQUES


def test_embedded_profile_covers_every_technique():
    profile = load_profile("embedded")
    assert {c.technique for c in profile.cells} == set(TECHNIQUES)
    bits = {c.setting.get("bits") for c in profile.cells if c.technique == "quantize"}
    assert bits == {6, 8, 16}
    assert len({c.key for c in profile.cells}) == len(profile.cells)
    assert "embedded" in available_profiles()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("format_version = 1\nname = 'x'\n[[group]\n", "not valid TOML"),
        ("format_version = 2\nname = 'x'\n", "format_version 2"),
        ("format_version = 1\nname = 'x'\n[[group]]\ntechnique='zip'\nmodels=['a']\nmetrics=[]\n", "technique 'zip'"),
        ("format_version = 1\nname = 'x'\n[[group]]\ntechnique='baseline'\nmodels=['a']\nmetrics=['speed']\n",
         "metric 'speed' unknown"),
        ("format_version = 1\nname = 'x'\n[measurement]\nrepeats = 3\n[[group]]\n", "'repeats' is not a setting"),
        ("format_version = 1\nname = 'x'\n[[group]]\nmodels=['a']\nmetrics=[]\n", "missing field 'technique'"),
    ],
)
def test_bad_profiles_get_one_line_naming_file_and_field(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_profile(str(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unknown_profile_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match="choose one of: .*embedded"):
        load_profile("nope")


def test_smoke_profile_is_the_ci_slice_with_fewer_training_epochs():
    from artifact.device.models.architectures.mini_zoo import EPOCHS, scaled_epochs

    profile = load_profile("smoke")
    assert {c.model for c in profile.cells} == {"mini_vgg"}
    assert {c.technique for c in profile.cells} == {"baseline", "quantize", "prune"}
    assert profile.measurement["train_epochs_scale"] == 0.25
    assert scaled_epochs(EPOCHS["mini_vgg"], 0.25) == 3 and scaled_epochs(3, 0.1) == 1
    assert scaled_epochs(EPOCHS["mini_vgg"]) == EPOCHS["mini_vgg"]
    assert load_profile("embedded").measurement["train_epochs_scale"] == 1.0
