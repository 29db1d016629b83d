# Copy to instance/config.py and adjust. Environment variables override these values.
# DATABASE_URL = "postgresql+psycopg://planner@127.0.0.1:5432/planner"
# REDIS_URL = "redis://127.0.0.1:6379/0"   # run long solves on RQ workers (`planner worker`)
# SECRET_KEY = "a long random string"
# SESSION_COOKIE_SECURE = True             # when served over HTTPS
# SESSION_IDLE_HOURS = 8                   # a session ends after this long without a request (PLANNER_SESSION_IDLE_HOURS)
# SESSION_MAX_HOURS = 12                   # ... and this long after signing in, however busy (0: no cap)
# BUILD_DOCUMENTS_ON_PUBLISH = True        # publishing a plan starts building its full ZIP (PLANNER_BUILD_DOCUMENTS_ON_PUBLISH)
# LOGIN_MAX_FAILURES = 5                   # failed logins per user name and address before a pause
# LOGIN_MAX_FAILURES_PER_ADDRESS = 20      # per address across user names (password spraying); 0 turns it off
# LOGIN_MAX_FAILURES_PER_ACCOUNT = 30      # per user name across addresses (distributed guessing); 0 turns it off
# LOGIN_THROTTLE_MINUTES = 15              # the window the failures are counted over, and the pause
