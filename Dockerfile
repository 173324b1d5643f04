# syntax=docker/dockerfile:1
# Build: docker build -t kefu-router .   Run: docker run -p 8080:8080 -v kefu-data:/data kefu-router
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY router ./router
COPY adapters ./adapters
COPY routing_rules ./routing_rules
COPY kefu_common ./kefu_common
COPY config ./config
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# ffmpeg converts WeChat's AMR voice notes into MP3 that browsers play (router/media/voice.py).
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home /data kefu && mkdir -p /data && chown kefu /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER kefu
WORKDIR /data
ENV KEFU_DATA_DIR=/data KEFU_HOST=0.0.0.0 KEFU_PORT=8080
EXPOSE 8080
# SIGTERM drains in-flight work and closes sockets with 1001 before exit.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2).status == 200 else 1)"
CMD ["kefu", "serve"]
