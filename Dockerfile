# One image for the operator, the read API and the worker: the command selects the
# component (tracker-operator | tracker-api | tracker-worker); the chart sets it per pod.
#   docker build -t workflow-tracker:dev .
# Without a registry or an index (scripts/build-image.sh): any Python 3.11 Debian base
# with python3-venv, and the wheels built beforehand in wheelhouse/ of the context:
#   --build-arg PYTHON_IMAGE=localhost/debian-base:bookworm --build-arg PIP_NO_INDEX=1
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG PIP_NO_INDEX=0
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_FIND_LINKS=/build/wheelhouse
WORKDIR /build
RUN python3 -m venv /opt/tracker
# Dependencies in their own layer: it changes only when pyproject.toml (or the
# wheelhouse, when there is one) does. The glob copies wheelhouse/ only if it exists.
COPY pyproject.toml wheelhous[e] ./wheelhouse/
RUN mv wheelhouse/pyproject.toml . \
    && python3 -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && /opt/tracker/bin/pip install --requirement requirements.txt
# Then the project itself, as a wheel: the console scripts are the ones pyproject.toml
# names.
COPY README.md ./
COPY src ./src
RUN /opt/tracker/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/tracker/bin/pip install --no-deps /wheels/*.whl \
    && /opt/tracker/bin/python -c "import tracker.operator.handlers, tracker.api.app, tracker.worker.main"

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="workflow-tracker" \
      org.opencontainers.image.description="Workflow Tracker operator, read API and worker" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --gid 10001 tracker \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin tracker
COPY --from=build /opt/tracker /opt/tracker
# Nothing is written at runtime but /tmp (an emptyDir in the chart): the root
# filesystem can be read-only.
ENV PATH=/opt/tracker/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000 8080
CMD ["tracker-api", "--host", "0.0.0.0", "--port", "8000"]
