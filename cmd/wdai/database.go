package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/internal/pgembed"
)

// devDatabase is the database wdai creates in the embedded cluster.
const devDatabase = "wdai"

// database is an open pool and how to release everything behind it.
type database struct {
	Pool    *pgxpool.Pool
	cluster *pgembed.Cluster
	urlFile string // written by us while the cluster runs; removed at close
	logger  *slog.Logger
}

// DevURLFile is the file, in WDAI_DATA_DIR, where the wdai that started the
// embedded cluster writes its connection URL (mode 0600: it carries the
// password) while it runs, so that other wdai commands reach the same
// database without DATABASE_URL.
const DevURLFile = "database-url"

// openDatabase connects to DATABASE_URL, or in development without one starts
// the embedded cluster under WDAI_DATA_DIR and creates the wdai database, or,
// when another wdai (typically `make run`) already runs that cluster, uses
// the URL it wrote into WDAI_DATA_DIR. It says nothing about the embedded
// cluster except warnings: the CLI's output stays the command's own.
func openDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*database, error) {
	return openDatabaseAnnounced(ctx, cfg, logger, false)
}

// openDatabaseAnnounced is openDatabase; with announce (the server) it logs
// the embedded cluster's "ready" line naming the URL (password hidden) and
// the file holding the full URL.
func openDatabaseAnnounced(ctx context.Context, cfg config.Config, logger *slog.Logger, announce bool) (*database, error) {
	db := &database{logger: logger}
	url := cfg.DatabaseURL
	if url == "" {
		if !cfg.Dev() {
			return nil, errors.New("DATABASE_URL is required in production")
		}
		var err error
		if url, err = db.startEmbedded(ctx, cfg, announce); err != nil {
			return nil, err
		}
	}
	pool, err := postgres.Open(ctx, url, postgres.PoolConfig{MaxConns: cfg.DBMaxConns})
	if err != nil {
		db.CloseContext(ctx)
		return nil, err
	}
	db.Pool = pool
	return db, nil
}

// startEmbedded starts the embedded cluster (or finds the running one) and
// returns the wdai database's URL.
func (d *database) startEmbedded(ctx context.Context, cfg config.Config, announce bool) (string, error) {
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	urlFile := filepath.Join(cfg.DataDir, DevURLFile)
	quiet := slog.New(levelFloor{Handler: d.logger.Handler(), min: slog.LevelWarn})
	cluster, err := pgembed.Start(startCtx, pgembed.Options{Dir: filepath.Join(cfg.DataDir, "postgres"), Logger: quiet})
	if errors.Is(err, pgembed.ErrInUse) {
		b, rerr := os.ReadFile(urlFile) //nolint:gosec // WDAI_DATA_DIR is the operator's own folder
		if rerr == nil && len(bytes.TrimSpace(b)) > 0 {
			return string(bytes.TrimSpace(b)), nil
		}
		return "", fmt.Errorf("the embedded database in WDAI_DATA_DIR=%s is run by another wdai that has not written %s yet "+
			"(wait until it is ready, stop it, set WDAI_DATA_DIR to another folder, or set DATABASE_URL): %w", cfg.DataDir, urlFile, err)
	}
	if err != nil {
		return "", fmt.Errorf("embedded postgres (WDAI_DATA_DIR=%s): %w", cfg.DataDir, err)
	}
	d.cluster = cluster
	if err := ensureDatabase(startCtx, cluster.URL("postgres"), devDatabase); err != nil {
		d.CloseContext(ctx)
		return "", err
	}
	dbURL := cluster.URL(devDatabase)
	if err := writePrivateFile(urlFile, dbURL+"\n"); err != nil {
		d.CloseContext(ctx)
		return "", err
	}
	d.urlFile = urlFile
	if announce {
		d.logger.Info("embedded postgres ready", "url", redactURL(dbURL), "url_file", urlFile,
			"data_dir", cluster.DataDir(), "log_file", cluster.LogFile())
	}
	return dbURL, nil
}

// writePrivateFile writes content to path with mode 0600, replacing it
// atomically.
func writePrivateFile(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// redactURL hides the password of a postgres URL for the log.
func redactURL(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// levelFloor drops records below min (pgembed's progress lines in the CLI).
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{Handler: h.Handler.WithGroup(name), min: h.min}
}

// CloseContext closes the pool, then stops the embedded cluster if wdai
// started it, within 30 seconds even when ctx is already cancelled (as it is
// at shutdown): ctx lends its values, not its deadline.
func (d *database) CloseContext(ctx context.Context) {
	if d.Pool != nil {
		d.Pool.Close()
	}
	if d.urlFile != "" {
		_ = os.Remove(d.urlFile)
		d.urlFile = ""
	}
	if d.cluster != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := d.cluster.Stop(stopCtx); err != nil {
			d.logger.Error("stop embedded postgres", "error", err.Error())
		}
	}
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("embedded postgres: connect: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: reused cluster
		return nil
	}
	if err != nil {
		return fmt.Errorf("embedded postgres: create database %s: %w", name, err)
	}
	return nil
}
