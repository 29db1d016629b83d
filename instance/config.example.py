# Copy to instance/config.py and adjust. Environment variables override these values.
# DATABASE_URL = "postgresql+psycopg://planner@127.0.0.1:5432/planner"
# REDIS_URL = "redis://127.0.0.1:6379/0"   # run long solves on RQ workers (`planner worker`)
# SECRET_KEY = "a long random string"
# SESSION_COOKIE_SECURE = True             # when served over HTTPS
