#!/usr/bin/python3
"""A third-party RTSP server for the media tests: GStreamer's gst-rtsp-server (Debian packages), live test pattern,
H.264 or H.265, Digest auth, on an ephemeral port. Prints the port on stdout once listening; runs until killed."""
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
gi.require_version('GstRtsp', '1.0')
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

Gst.init(None)
codec = sys.argv[1] if len(sys.argv) > 1 else 'h264'
user = sys.argv[2] if len(sys.argv) > 2 else 'viewer'
password = sys.argv[3] if len(sys.argv) > 3 else 'secret'

# 'file:/path/clip.mp4': an H.264 MP4 served as a recording (seekable: PLAY's Range and Scale are honoured)
vod = codec.startswith('file:')
if vod:
    enc = None
elif codec == 'h265':
    enc = 'x265enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! video/x-h265,profile=main ! rtph265pay name=pay0 pt=96 config-interval=-1'
else:
    enc = 'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bframes=0 ! video/x-h264,profile=high ! rtph264pay name=pay0 pt=96 config-interval=-1'

server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service('0')
factory = GstRtspServer.RTSPMediaFactory()
if vod:
    path = codec[len('file:'):]
    if not path.startswith('/') or any(c in path for c in ' "\'()!'):
        sys.exit('file: needs an absolute path without spaces, quotes or brackets')
    factory.set_launch(f'( filesrc location={path} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )')
    factory.set_shared(False)
else:
    factory.set_launch(f'( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 ! {enc} )')
    factory.set_shared(True)


def configure(_factory, media):
    if vod:
        return
    # a live source: PLAY's Range must not turn into a seek
    try:
        media.set_property('seekable', False)  # not a property in every version
    except TypeError:
        pass


factory.connect('media-configure', configure)

auth = GstRtspServer.RTSPAuth()
token = GstRtspServer.RTSPToken()
token.set_string('media.factory.role', user)
auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
auth.add_digest(user, password, token)
server.set_auth(auth)
perms = GstRtspServer.RTSPPermissions()
perms.add_role(user)
perms.add_permission_for_role(user, 'media.factory.access', True)
perms.add_permission_for_role(user, 'media.factory.construct', True)
factory.set_permissions(perms)

server.get_mount_points().add_factory('/test', factory)
if server.attach(None) == 0:
    sys.exit('could not listen')
print(server.get_bound_port(), flush=True)
GLib.MainLoop().run()
