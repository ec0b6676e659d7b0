# Mahalleyar in a container: the installed wheel, a non-root user, the database on a volume.
#   docker build -t mahalleyar .
#   docker run -d --name mahalleyar --env-file .env -v mahalleyar-data:/data mahalleyar
# Webhook mode: add -p 8443:8443 and WEBHOOK_URL (see README, Operations). Metrics: -p 9100:9100
# with METRICS_PORT=9100 and METRICS_HOST=0.0.0.0.
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/mahalleyar.sqlite3 \
    BACKUP_DIR=/data/backups
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin \
       mahalleyar \
    && mkdir -p /data && chown mahalleyar:mahalleyar /data && chmod 0700 /data
USER mahalleyar
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8443
# Looks at the bot process only (its heartbeat: event loop, database, update fetching), never
# at Telegram, so a Telegram outage does not turn into a restart loop.
HEALTHCHECK --interval=60s --timeout=15s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
