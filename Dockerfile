# mechsolve gRPC server image.
#   docker build -t mechsolve .
#   docker run --rm -p 50051:50051 mechsolve            # serves mechsolve.v1 on 0.0.0.0:50051
# The install step is the README's install command (python3.11 -m venv .venv && .venv/bin/pip
# install .), so what the tests exercise is what the image runs.

FROM python:3.11.7-slim-bookworm AS build
WORKDIR /opt/mechsolve
COPY pyproject.toml README.md ./
COPY mechsolve ./mechsolve
COPY solver ./solver
COPY server ./server
COPY client ./client
RUN python3.11 -m venv .venv && .venv/bin/pip install .

FROM python:3.11.7-slim-bookworm
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin mechsolve
COPY --from=build /opt/mechsolve/.venv /opt/mechsolve/.venv
ENV PATH="/opt/mechsolve/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1
USER mechsolve
WORKDIR /home/mechsolve
EXPOSE 50051
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["mechsolve", "health", "--address", "127.0.0.1:50051"]
ENTRYPOINT ["mechsolve", "serve", "--host", "0.0.0.0", "--insecure"]
