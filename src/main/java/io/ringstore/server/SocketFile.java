package io.ringstore.server;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import org.tinylog.Logger;

/**
 * The listening socket file: bound without ever being reachable with the wrong mode, a stale one
 * replaced, a live one never stolen.
 *
 * <p>Order of birth: take {@code PATH.lock} (flock, dropped by the kernel when the process dies,
 * so two ringstores never race for one path); if {@code PATH} exists, it must be a socket and
 * nobody may answer on it (then it is stale: a crashed run left it); bind a temporary name in
 * the same folder, set mode 0660 and the group, then rename it over {@code PATH} (atomic: a
 * client sees the old stale file or the new socket, never a socket with the wrong mode).
 */
public final class SocketFile implements AutoCloseable {
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final Path path;
    private final ServerSocketChannel channel;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Object fileKey;

    /** The socket is served by someone else; the message says by whom and what to do. */
    public static final class InUseException extends IOException {
        InUseException(String message) {
            super(message);
        }
    }

    private SocketFile(Path path, ServerSocketChannel channel, FileChannel lockChannel, FileLock lock, Object fileKey) {
        this.path = path;
        this.channel = channel;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.fileKey = fileKey;
    }

    /**
     * Binds {@code path} (creating its folder), mode 0660, group {@code group} (name or number;
     * null: the daemon's effective group).
     *
     * @throws InUseException when another ringstore holds the path or a live process answers on it,
     *                        or the path is something other than a socket
     */
    public static SocketFile bind(Path path, String group, int backlog) throws IOException {
        Path socket = path.toAbsolutePath();
        Path dir = socket.getParent();
        Files.createDirectories(dir);
        Path lockFile = dir.resolve(socket.getFileName() + ".lock");
        FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        ServerSocketChannel server = null;
        Path temp = dir.resolve("." + socket.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            FileLock lock;
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new InUseException("socket is in use by another ringstore: socket=" + socket + " lock=" + lockFile);
            }
            boolean stale = checkExisting(socket);
            Files.deleteIfExists(temp);
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(temp), backlog);
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-rw----"));
            GroupPrincipal groupPrincipal = socket.getFileSystem().getUserPrincipalLookupService()
                    .lookupPrincipalByGroupName(group != null ? group : Integer.toString(PosixAccounts.effectiveGid()));
            Files.getFileAttributeView(temp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(groupPrincipal);
            Files.move(temp, socket, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (stale) {
                Logger.warn("replaced a stale socket left by an earlier run: socket={}", socket);
            }
            Object key = Files.readAttributes(socket, java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).fileKey();
            return new SocketFile(socket, server, lockChannel, lock, key);
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            Files.deleteIfExists(temp);
            lockChannel.close();
            throw e;
        }
    }

    /** Whether an existing file at {@code socket} is a stale socket (false: there is none). */
    private static boolean checkExisting(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new InUseException("socket path exists and is not a socket, not touching it: path=" + socket);
        }
        try {
            SocketChannel.open(UnixDomainSocketAddress.of(socket)).close();
        } catch (ConnectException e) {
            return true; // ECONNREFUSED: nobody listens; a crashed run left it.
        }
        throw new InUseException("another process is listening on the socket: socket=" + socket
                + " (stop it, or give this daemon another --socket)");
    }

    public Path path() {
        return path;
    }

    public ServerSocketChannel channel() {
        return channel;
    }

    /**
     * The next connection, or null once the socket is closed (or {@code closed} says the server is
     * stopping). An accept that fails otherwise (EMFILE and the like) is logged and tried again
     * after 100 ms instead of spinning.
     */
    public SocketChannel accept(java.util.function.BooleanSupplier closed) {
        while (!closed.getAsBoolean()) {
            try {
                return channel.accept();
            } catch (java.nio.channels.ClosedChannelException e) {
                return null;
            } catch (IOException e) {
                if (closed.getAsBoolean()) {
                    return null;
                }
                Logger.error("accept failed: {}", e.toString());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
        return null;
    }

    /** Stops listening and removes the socket file, if it is still ours. */
    @Override
    public void close() throws IOException {
        try {
            channel.close();
            try {
                Object key = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS).fileKey();
                if (key != null && key.equals(fileKey)) {
                    Files.deleteIfExists(path);
                }
            } catch (java.nio.file.NoSuchFileException e) {
                // Someone removed it already.
            }
        } finally {
            try {
                lock.release();
            } finally {
                lockChannel.close();
            }
        }
    }
}
