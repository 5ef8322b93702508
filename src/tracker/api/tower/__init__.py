"""The Nextflow trace receiver: the Tower / Seqera Platform protocol Nextflow's
nf-tower client speaks (`-with-tower http://HOST:PORT/tower`), served by the API
process under its own base path.

`routes` is the HTTP edge, `identity` who calls and where they may report,
`receiver` what each call does (one transaction per call: task rows are committed
before the answer), `runs` where runs are written.
"""

from tracker.api.tower.routes import install

__all__ = ["install"]
