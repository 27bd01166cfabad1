import socket

from dialer.sip.uac import UserAgent


async def test_options_keepalive_between_two_endpoints_and_to_a_dead_port() -> None:
    trunk, dialer = UserAgent(display="trunk"), UserAgent(time_scale=0.01)
    await trunk.start()
    await dialer.start()
    try:
        assert await dialer.ping((trunk.host, trunk.port))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
            closed.bind(("127.0.0.1", 0))
            dead = closed.getsockname()
        assert not await dialer.ping(dead, timeout=2)
        assert dialer.layer.live == 0
    finally:
        trunk.close()
        dialer.close()
