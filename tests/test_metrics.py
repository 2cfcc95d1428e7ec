"""Exactness of dragon_nb.metrics against reference oracles (issue 3, "Exactness").

Oracles, re-implemented here because the peer packages cannot be installed on this machine:
  * scipy:  FD with float64 `scipy.linalg.sqrtm(S1 @ S2).real` (what pytorch-fid does, without the eps retry);
  * fadtk 1.1.0 `calc_frechet_distance`: `D, V = eig(S1 @ S2); covmean = (V * sqrt(D)) @ inv(V)`, real part;
  * frechet-audio-distance 0.3.4: `sqrtm(S1.dot(S2).astype(complex))`, real part;
  * vendi-score 0.0.3 `score_X` (normalise rows, K = X X^T, eigvalsh(K/n), entropy over eigenvalues > 0);
  * a 40-digit mpmath "truth" for small problems.
Data: CLAP-like embeddings with power-law spectra (eigenvalues ~ k^-1.5 for the population, k^-2 within a
song), L2-normalised rows, a strong common mean; singular song covariances (t < d) and near-duplicates.
A 512 x 512 sqrtm costs ~0.5 s here, so the d=512 cases use few of them; most breadth is at d=64.
"""
import math, time
import numpy as np
import pytest
import scipy.linalg as sl
import torch
import mpmath as mp
from dragon_nb.metrics import (GaussianStats, frechet_distance, per_song_fd, dataset_fd, vendi_score,
                               SetFD, SetVendi)

torch.set_num_threads(1)

# ---------------------------------------------------------------- data
def gauss(rng, n, d, alpha, q=None):
    "n draws of a zero-mean Gaussian with eigenvalues k^-alpha in a random orthonormal basis q."
    if q is None: q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return (rng.standard_normal((n, d)) * np.arange(1, d + 1) ** (-alpha / 2)) @ q.T

def unit(x): return x / np.linalg.norm(x, axis=-1, keepdims=True)

def clap_like(seed, d, n_ref, b, t, shift=0.02):
    "Reference embeddings (n_ref, d) and b songs of t frames (b, t, d), slightly shifted from the reference."
    rng = np.random.default_rng(seed)
    mu = unit(rng.standard_normal(d))
    ref = unit(mu + 0.05 * gauss(rng, n_ref, d, 1.5))
    centres = mu + shift + 0.05 * gauss(rng, b, d, 1.5)
    songs = unit(centres[:, None] + 0.02 * gauss(rng, b * t, d, 2.0).reshape(b, t, d))
    return ref, songs

@pytest.fixture(scope='module')
def d512():
    ref, songs = clap_like(0, 512, 2000, 8, 32)
    return ref, GaussianStats.from_embeddings(ref), songs

@pytest.fixture(scope='module')
def d64():
    ref, songs = clap_like(1, 64, 500, 12, 8)                 # 8 frames in 64 dims: rank-7 song covariances
    return ref, GaussianStats.from_embeddings(ref), songs

# ---------------------------------------------------------------- oracles
def stats_np(x): return x.mean(0), np.cov(x, rowvar=False)

def _fd(m1, s1, m2, s2, covmean): return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)

def fd_scipy(m1, s1, m2, s2): return _fd(m1, s1, m2, s2, sl.sqrtm(s1 @ s2).real)

def fd_fadtk(m1, s1, m2, s2):
    D, V = sl.eig(s1.dot(s2))
    return _fd(m1, s1, m2, s2, ((V * np.sqrt(D)) @ sl.inv(V)).real)

def fd_frechet_audio_distance(m1, s1, m2, s2): return _fd(m1, s1, m2, s2, sl.sqrtm(s1.dot(s2).astype(complex)).real)

def vendi_score_X(X):
    "vendi-score 0.0.3 score_X (which always uses q=1)."
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    w = sl.eigvalsh(X @ X.T / X.shape[0])
    p = w[w > 0]
    return float(np.exp(-(p * np.log(p)).sum()))

def vendi_renyi(X, q):
    "Order-q Vendi score from the definition (primal kernel, scipy eigvalsh)."
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    p = np.clip(sl.eigvalsh(X @ X.T / X.shape[0]), 0, None)
    if q == 'inf': return float(1 / p.max())
    p = p[p > 1e-13]
    return float(np.exp(-(p * np.log(p)).sum())) if q == 1 else float((p ** q).sum() ** (1 / (1 - q)))

def fd_truth(frames, ref_mean, ref_cov, dps=40):
    "FD of the frame Gaussian of `frames` (t, d), t small, to (ref_mean, ref_cov), in mpmath (n x n form)."
    mp.mp.dps = dps
    t, d = frames.shape
    X = mp.matrix(frames.tolist()); R = mp.matrix(ref_cov.tolist())
    mu = [mp.fsum(X[i, j] for i in range(t)) / t for j in range(d)]
    Xc = mp.matrix(t, d)
    for i in range(t):
        for j in range(d): Xc[i, j] = X[i, j] - mu[j]
    G = Xc * R * Xc.T / (t - 1)
    w = mp.eigsy(G, eigvals_only=True)
    trs = mp.fsum(Xc[i, j] ** 2 for i in range(t) for j in range(d)) / (t - 1)
    dm = mp.fsum((mu[j] - mp.mpf(float(ref_mean[j]))) ** 2 for j in range(d))
    return float(dm + trs + mp.fsum(mp.mpf(float(ref_cov[j, j])) for j in range(d)) - 2 * mp.fsum(mp.sqrt(max(v, 0)) for v in w))

def rel(a, b): return abs(a - b) / abs(b)

# ---------------------------------------------------------------- FD exactness, d = 512
def test_per_song_fd_vs_scipy_and_peers_d512(d512):
    ref, r, songs = d512
    mr, sr = r.mean.numpy(), r.cov.numpy()
    lengths = [32, 10] + [32] * 6                                          # song 1 is zero-padded after 10 frames
    x = songs.copy(); x[1, 10:] = 0
    ours = per_song_fd(torch.from_numpy(x), r, lengths=lengths)
    assert ours.dtype == torch.float64 and ours.shape == (8,)
    for i, fn in [(0, fd_scipy), (1, fd_scipy), (2, fd_fadtk), (3, fd_frechet_audio_distance)]:
        m, s = stats_np(songs[i, :lengths[i]])
        assert rel(ours[i].item(), fn(mr, sr, m, s)) < 1e-6, (i, fn.__name__)
    # the same songs through every input form, and mixed precision
    for i in (0, 1):
        assert rel(frechet_distance(songs[i, :lengths[i]], r), ours[i].item()) < 1e-12
        assert rel(frechet_distance(r, GaussianStats.from_embeddings(songs[i, :lengths[i]])), ours[i].item()) < 1e-9
    assert rel(frechet_distance(songs[0], ref), ours[0].item()) < 1e-12                   # nuclear-norm form
    mixed = per_song_fd(torch.from_numpy(x), r, lengths=lengths, precision='mixed')
    assert ((mixed - ours).abs() / ours).max() < 1e-7

def test_dataset_fd_vs_scipy_and_peers_d512(d512):
    ref, r, songs = d512
    mr, sr = r.mean.numpy(), r.cov.numpy()
    pooled = songs.reshape(-1, 512)                                         # N = 256 frames
    m, s = stats_np(pooled)
    ours = dataset_fd(torch.from_numpy(songs), r)
    assert isinstance(ours, float)
    assert rel(ours, fd_scipy(mr, sr, m, s)) < 1e-6
    assert rel(ours, fd_fadtk(mr, sr, m, s)) < 1e-6
    assert rel(dataset_fd(list(songs), r), ours) < 1e-12
    assert rel(frechet_distance(pooled, r), ours) < 1e-12
    assert rel(frechet_distance(pooled, ref), ours) < 1e-9                 # two embedding sets
    assert rel(frechet_distance(GaussianStats.from_embeddings(pooled), r), ours) < 1e-9
    assert rel(dataset_fd(songs, r, precision='mixed'), ours) < 1e-7       # mixed precision, the gate

def test_mixed_precision_dataset_fd_full_rank(d512):
    ref, r, _ = d512
    _, songs = clap_like(7, 512, 10, 32, 32)                                # N = 1024 > d: the d x d Gram
    f64, mixed = dataset_fd(songs, r), dataset_fd(songs, r, precision='mixed')
    assert rel(mixed, f64) < 1e-7
    m, s = stats_np(songs.reshape(-1, 512))
    assert rel(f64, fd_scipy(r.mean.numpy(), r.cov.numpy(), m, s)) < 1e-6

def test_gaussian_stats_vs_full_rank_scipy(d512):
    ref, r, songs = d512
    other = GaussianStats.from_embeddings(clap_like(3, 512, 1500, 1, 1)[0])
    assert rel(frechet_distance(r, other), fd_scipy(r.mean.numpy(), r.cov.numpy(), other.mean.numpy(), other.cov.numpy())) < 1e-6
    assert rel(frechet_distance(other, r), frechet_distance(r, other)) < 1e-12

# ---------------------------------------------------------------- FD exactness, d = 64, many cases
def test_per_song_fd_d64_all_oracles(d64):
    ref, r, songs = d64
    mr, sr = r.mean.numpy(), r.cov.numpy()
    ours = per_song_fd(songs, r)
    for i in range(len(songs)):
        m, s = stats_np(songs[i])
        for fn in (fd_scipy, fd_fadtk, fd_frechet_audio_distance):
            assert rel(ours[i].item(), fn(mr, sr, m, s)) < 1e-6, (i, fn.__name__)

def test_per_song_fd_vs_high_precision_truth(d64):
    ref, r, songs = d64
    ours = per_song_fd(songs[:2], r)
    mixed = per_song_fd(songs[:2], r, precision='mixed')
    for i in range(2):
        truth = fd_truth(songs[i], r.mean.numpy(), r.cov.numpy())
        assert rel(ours[i].item(), truth) < 1e-10
        assert rel(mixed[i].item(), truth) < 1e-7

def test_near_duplicate_and_identical_frames(d64):
    ref, r, songs = d64
    rng = np.random.default_rng(5)
    v = songs[0, 0]
    near = v + 1e-6 * rng.standard_normal((8, 64))                        # noise 1e-6 around one vector
    same = np.repeat(v[None], 8, 0)                                        # a zero covariance
    ours = per_song_fd([near, same], r)
    assert torch.isfinite(ours).all()
    mr, sr = r.mean.numpy(), r.cov.numpy()
    limit = float(((v - mr) ** 2).sum() + np.trace(sr))                    # FD to a point mass
    assert rel(ours[1].item(), limit) < 1e-12
    m, s = stats_np(near)
    truth = fd_truth(near, mr, sr)
    assert rel(ours[0].item(), truth) < 1e-10
    for fn in (fd_scipy, fd_fadtk, fd_frechet_audio_distance):
        assert rel(ours[0].item(), fn(mr, sr, m, s)) < 1e-6, fn.__name__
    assert rel(frechet_distance(near, r), ours[0].item()) < 1e-12
    assert rel(frechet_distance(near, ref), ours[0].item()) < 1e-9
    # near-duplicate rows inside a reference: its covariance is singular, Σ^{1/2} still exact
    sing = GaussianStats.from_embeddings(np.concatenate([near, near[:3]]))
    assert rel(frechet_distance(songs[1], sing), fd_truth(songs[1], sing.mean.numpy(), sing.cov.numpy())) < 1e-8

def test_padding_equals_separate_songs(d64):
    _, r, songs = d64
    lens = [8, 3, 5, 2]
    x = songs[:4].copy()
    for i, n in enumerate(lens): x[i, n:] = np.nan                          # garbage in padding is ignored
    padded = per_song_fd(x, r, lengths=lens)
    one_by_one = torch.tensor([frechet_distance(songs[i, :n], r) for i, n in enumerate(lens)], dtype=torch.float64)
    assert torch.allclose(padded, one_by_one, rtol=1e-12, atol=0)
    assert torch.allclose(per_song_fd([songs[i, :n] for i, n in enumerate(lens)], r), one_by_one, rtol=1e-12, atol=0)
    assert rel(dataset_fd(x, r, lengths=lens), dataset_fd(np.concatenate([songs[i, :n] for i, n in enumerate(lens)]), r)) < 1e-12

def test_long_songs_use_d_by_d_path():
    ref, songs = clap_like(2, 16, 300, 3, 40)                               # t = 40 >= d = 16
    r = GaussianStats.from_embeddings(ref)
    ours = per_song_fd(songs, r)
    for i in range(3):
        m, s = stats_np(songs[i])
        assert rel(ours[i].item(), fd_scipy(r.mean.numpy(), r.cov.numpy(), m, s)) < 1e-9
    assert ((per_song_fd(songs, r, precision='mixed') - ours).abs() / ours).max() < 1e-6

def test_fd_basic_identities():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 12))
    assert abs(frechet_distance(x, x)) < 1e-12
    assert abs(frechet_distance(x, x + 1) - 12) < 1e-12
    assert abs(frechet_distance(torch.from_numpy(x), GaussianStats.from_embeddings(x))) < 1e-12
    r = GaussianStats.from_embeddings(x)
    assert abs(per_song_fd(x[None], r).item()) < 1e-12

def test_reference_regularisation_is_scaled_and_recorded(d64):
    ref, r, _ = d64
    rr = GaussianStats.from_embeddings(ref, eps=1e-3)
    assert rr.eps == 1e-3 and repr(rr) == 'GaussianStats(d=64, n=500, eps=0.001)'
    ridge = (rr.cov - r.cov).diagonal()
    assert torch.allclose(ridge, torch.full_like(ridge, 1e-3 * r.tr_cov / 64), rtol=1e-9, atol=0)
    assert torch.equal(rr.cov - torch.diag(ridge), r.cov) or torch.allclose(rr.cov - torch.diag(ridge), r.cov, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match='already carry eps=0.001'): rr.regularised(1e-3)
    assert r.eps == 0                                                       # nothing is added unless asked

# ---------------------------------------------------------------- Vendi
@pytest.mark.parametrize('n,d', [(16, 64), (64, 64), (200, 64), (40, 512)])
def test_vendi_vs_vendi_score_package(n, d):
    X = unit(clap_like(n, d, n, 1, 1)[0])                                  # correlated rows with a common mean
    ours = vendi_score(X)
    assert abs(ours - vendi_score_X(X)) / ours < 1e-12
    for q in (0.5, 2, 'inf'):
        assert abs(vendi_score(torch.from_numpy(X), q=q) - vendi_renyi(X, q)) / vendi_renyi(X, q) < 1e-9, q

def test_vendi_primal_equals_dual():
    from dragon_nb.metrics import _unit_rows, _vendi_from_eigs
    X = _unit_rows(np.random.default_rng(1).standard_normal((30, 20)) + 0.5)
    for q in (1, 2, 0.5):
        primal = _vendi_from_eigs(torch.linalg.eigvalsh(X @ X.T / 30), q)
        dual = _vendi_from_eigs(torch.linalg.eigvalsh(X.T @ X / 30), q)
        assert abs(primal - dual) / primal < 1e-12
    Y = X[:15]                                                               # n <= d: primal inside vendi_score
    assert abs(vendi_score(Y) - _vendi_from_eigs(torch.linalg.eigvalsh(Y.T @ Y / 15), 1)) < 1e-12

def test_vendi_honours_q():
    X = np.eye(6)[[0, 0, 0, 1, 2, 3]]                                      # p = 1/2, 1/6, 1/6, 1/6
    p = np.array([.5, 1 / 6, 1 / 6, 1 / 6])
    assert abs(vendi_score(X, q=1) - np.exp(-(p * np.log(p)).sum())) < 1e-12
    assert abs(vendi_score(X, q=2) - 1 / (p ** 2).sum()) < 1e-12
    assert abs(vendi_score(X, q=0) - 4) < 1e-12
    assert abs(vendi_score(X, q=math.inf) - 2) < 1e-12
    assert vendi_score(X, q=2) != pytest.approx(vendi_score(X, q=1))      # the package's score_X would return q=1

def test_vendi_near_duplicates():
    rng = np.random.default_rng(2)
    v = rng.standard_normal(64)
    X = v + 1e-6 * rng.standard_normal((20, 64))
    assert abs(vendi_score(X) - 1) < 1e-9 and abs(vendi_score(X) - vendi_score_X(X)) < 1e-9

# ---------------------------------------------------------------- incremental set statistics
def test_setfd_random_swaps_equal_recomputation(d64):
    _, r, _ = d64
    _, pool = clap_like(11, 64, 10, 24, 16)                                # 24 candidate songs of 16 frames
    rng = np.random.default_rng(0)
    members = list(range(8))                                                # 8 x 16 = 128 frames > d
    sf = SetFD([pool[i] for i in members], ref=r)
    for step in range(60):
        i, j = int(rng.integers(len(members))), int(rng.integers(24))
        op = step % 5
        if op == 3 and len(members) > 5: sf.remove(i); members.pop(i)
        elif op == 4: sf.add(pool[j]); members.append(j)
        elif op == 2:
            before = sf.fd()
            tentative = sf.fd_if_swapped(i, pool[j])
            expect = dataset_fd([pool[k] for k in members[:i] + [j] + members[i + 1:]], r)
            assert rel(tentative, expect) < 1e-9
            assert sf.fd() == before                                        # left unchanged
        else:
            out = sf.swap(i, pool[j]); np.testing.assert_array_equal(out.numpy(), pool[members[i]]); members[i] = j
        assert rel(sf.fd(), dataset_fd([pool[k] for k in members], r)) < 1e-9, step
    stats = GaussianStats.from_embeddings(np.concatenate([pool[k] for k in members]))
    assert rel(frechet_distance(stats, r), sf.fd()) < 1e-9

def test_setfd_d512_and_long_songs(d512):
    _, r, _ = d512
    _, pool = clap_like(12, 512, 10, 24, 32)
    sf = SetFD(list(pool[:18]), ref=r)                                     # 576 frames > 512: the sums path
    for i, j in [(0, 18), (5, 19), (0, 20), (17, 21)]: sf.swap(i, pool[j])
    members = [20, 1, 2, 3, 4, 19] + list(range(6, 17)) + [21]
    assert rel(sf.fd(), dataset_fd([pool[k] for k in members], r)) < 1e-9
    small = SetFD(list(pool[:4]), ref=r)                                   # 128 frames <= 512: exact low-rank path
    small.swap(2, pool[9])
    assert rel(small.fd(), dataset_fd([pool[0], pool[1], pool[9], pool[3]], r)) < 1e-12
    ref, long = clap_like(13, 16, 300, 6, 20)                              # t >= d: songs kept as d x d sums
    r16 = GaussianStats.from_embeddings(ref)
    sl16 = SetFD(list(long[:3]), r16)
    sl16.swap(1, long[4]); sl16.remove(0); sl16.add(long[5])
    assert rel(sl16.fd(), dataset_fd([long[4], long[2], long[5]], r16)) < 1e-9

@pytest.mark.parametrize('n,d,q', [(12, 32, 1), (40, 16, 1), (12, 32, 2)])
def test_setvendi_random_swaps_equal_recomputation(n, d, q):
    rng = np.random.default_rng(n + d)
    X = rng.standard_normal((n, d)) + 0.3
    sv = SetVendi(X, q=q)
    for _ in range(40):
        i, new = int(rng.integers(n)), rng.standard_normal(d) + 0.3
        X2 = X.copy(); X2[i] = new
        assert abs(sv.score_if_swapped(i, new) - vendi_score(X2, q=q)) / vendi_score(X2, q=q) < 1e-9
        if rng.random() < 0.6: sv.swap(i, new); X = X2
        assert abs(sv.score() - vendi_score(X, q=q)) / vendi_score(X, q=q) < 1e-9

# ---------------------------------------------------------------- validation (before any LAPACK call)
def test_validation_messages(d64):
    ref, r, songs = d64
    bad = songs.copy(); bad[3, 5, 7] = np.nan
    t = time.perf_counter()
    with pytest.raises(ValueError, match=r'song 3 \(frame 5\)'): per_song_fd(bad, r)
    with pytest.raises(ValueError, match=r'song 3 \(frame 5\)'): dataset_fd(bad, r)
    assert time.perf_counter() - t < 5                                     # fails fast (scipy's sqrtm would hang)
    bad[3, 5, 7] = np.inf
    with pytest.raises(ValueError, match='NaN or Inf'): per_song_fd(bad, r)
    bad_ref = ref.copy(); bad_ref[42] = np.nan
    with pytest.raises(ValueError, match='row 42'): per_song_fd(songs, bad_ref)
    with pytest.raises(ValueError, match='row 42'): GaussianStats.from_embeddings(bad_ref)
    with pytest.raises(ValueError, match='row 42'): frechet_distance(bad_ref, songs[0])
    r512 = GaussianStats(torch.zeros(512), torch.eye(512), 10)
    emb384 = np.ones((4, 384))
    msg = 'embeddings have d=384 but the reference has d=512: use the same encoder for both'
    for fn in (lambda: per_song_fd(emb384[None], r512), lambda: dataset_fd(emb384, r512),
               lambda: frechet_distance(emb384, r512), lambda: SetFD([emb384], ref=r512)):
        with pytest.raises(ValueError, match=msg): fn()
    with pytest.raises(ValueError, match='at least 2 embeddings, got 1'): GaussianStats.from_embeddings(ref[:1])
    with pytest.raises(ValueError, match='song 2 has 1 frame'): per_song_fd(songs[:4], r, lengths=[8, 8, 1, 8])
    with pytest.raises(ValueError, match='lengths has 9 frames'): per_song_fd(songs[:2], r, lengths=[9, 8])
    with pytest.raises(ValueError, match='at least 2 frames'): dataset_fd(songs[:1, :1], r)
    with pytest.raises(ValueError, match=r'for one song use frames\[None\]'): per_song_fd(songs[0], r)
    with pytest.raises(ValueError, match="use 'float64' or 'mixed'"): dataset_fd(songs, r, precision='float32')
    z = songs[0].copy(); z[4] = 0
    with pytest.raises(ValueError, match='row 4 of emb has zero norm'): vendi_score(z)
    with pytest.raises(ValueError, match='NaN or Inf at row 1'): vendi_score(np.array([[1., 0], [np.nan, 1]]))
    with pytest.raises(ValueError, match='the set has 0 frame'): SetFD([], r).fd()
    with pytest.raises(ValueError, match='song frames contains NaN or Inf at row 5'): SetFD([], r).add(bad[3])
