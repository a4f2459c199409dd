import pytest

from smeeton import config


def test_load_reads_file_then_environment_then_overrides(tmp_path):
    path = tmp_path / "smeeton.toml"
    path.write_text(
        'data_dir = "/srv/x"\n[media]\nport = 41000\nannounce = ["10.0.0.1"]\n'
    )
    cfg = config.load(
        path,
        environ={"SMEETON_MEDIA_PORT": "42000", "SMEETON_SERVER_PORT": "9000"},
        overrides={"server.port": 9100},
    )
    assert cfg.data_dir == "/srv/x"
    assert cfg.media.port == 42000
    assert cfg.media.announce == ("10.0.0.1",)
    assert cfg.server.port == 9100


def test_load_rejects_unknown_field_and_bad_number(tmp_path):
    path = tmp_path / "smeeton.toml"
    path.write_text("[media]\nprot = 1\n")
    with pytest.raises(config.ConfigError, match="media.prot"):
        config.load(path, environ={})
    with pytest.raises(config.ConfigError, match="media.port"):
        config.load(None, environ={"SMEETON_MEDIA_PORT": "many"})


def test_environment_list_is_comma_separated():
    cfg = config.load(None, environ={"SMEETON_MEDIA_ANNOUNCE": "1.2.3.4, 5.6.7.8"})
    assert cfg.media.announce == ("1.2.3.4", "5.6.7.8")
