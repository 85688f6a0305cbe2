-- Which engine pulls the camera's streams: the in-process RTSP/RTP/fMP4 core (native, the default) or one ffmpeg
-- process per stream (kept for cameras the native client cannot handle). The session also falls back to ffmpeg by
-- itself, logged with the reason, when the native client meets something it does not support.
ALTER TABLE cameras ADD COLUMN media_engine text NOT NULL DEFAULT 'native' CHECK (media_engine IN ('native', 'ffmpeg'));
