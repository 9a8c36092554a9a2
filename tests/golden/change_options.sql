-- mariadb:10.11.0: safe INPLACE LOCK=NONE: default charset; row format; table comment; table options
ALTER TABLE `orders` DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=COMPRESSED COMMENT='orders ''v2''' STATS_PERSISTENT=0;
-- reverse: alter table orders: change table options
ALTER TABLE `orders` DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=DEFAULT COMMENT='' STATS_PERSISTENT=DEFAULT;
-- mysql:8.0.36: safe INPLACE LOCK=NONE: default charset; row format; table comment; table options
ALTER TABLE `orders` DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=COMPRESSED COMMENT='orders ''v2''' STATS_PERSISTENT=0;
-- reverse: alter table orders: change table options
ALTER TABLE `orders` DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=DEFAULT COMMENT='' STATS_PERSISTENT=DEFAULT;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=COMPRESSED COMMENT='orders ''v2''' STATS_PERSISTENT=0, ALGORITHM=INPLACE, LOCK=NONE;
