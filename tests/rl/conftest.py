import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny networks: one intra-op thread (much faster on the shared 2-core machines)."""
    torch = pytest.importorskip("torch")
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)
