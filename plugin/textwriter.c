/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The text writer thread (textwriter.h): a queue of vCPUs with a batch to
 * write, under a lock taken twice per batch of a megabyte.
 */
#include "textwriter.h"

#include <pthread.h>
#include <unistd.h>

#include "sink.h"
#include "vcpu.h"

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_done = PTHREAD_COND_INITIALIZER;
static ElVcpu *q_head, *q_tail;
static bool closing;
static bool running;            /* atomic */
static pid_t owner;             /* the process whose thread it is */
static pthread_t thread;

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q_lock);
    for (;;) {
        ElVcpu *v = q_head;

        if (!v) {
            if (closing) {
                break;
            }
            pthread_cond_wait(&q_work, &q_lock);
            continue;
        }
        q_head = v->qnext;
        if (!q_head) {
            q_tail = NULL;
        }
        pthread_mutex_unlock(&q_lock);
        el_sink_write_at(v->inflight_buf, v->inflight_len, v->inflight_at);
        /* the watcher need not write it again */
        __atomic_store_n(&v->inflight_done, true, __ATOMIC_RELEASE);
        pthread_mutex_lock(&q_lock);
        v->queued = false;
        pthread_cond_broadcast(&q_done);
    }
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

/*
 * A guest's fork: the child has no thread; its vCPU writes as before. (So
 * has a process forked before this handler runs, such as the child's
 * watcher: el_textw_running() also asks whose thread it is.)
 */
static void after_fork_in_child(void)
{
    pthread_mutex_init(&q_lock, NULL);
    pthread_cond_init(&q_work, NULL);
    pthread_cond_init(&q_done, NULL);
    q_head = q_tail = NULL;
    __atomic_store_n(&running, false, __ATOMIC_RELEASE);
}

bool el_textw_start(void)
{
    if (!el_sink_positional()) {
        return false;
    }
    if (pthread_create(&thread, NULL, writer_main, NULL) != 0) {
        return false;
    }
    pthread_atfork(NULL, NULL, after_fork_in_child);
    owner = getpid();
    __atomic_store_n(&running, true, __ATOMIC_RELEASE);
    return true;
}

/* (getpid() once per batch: a megabyte of lines) */
bool el_textw_running(void)
{
    return __atomic_load_n(&running, __ATOMIC_ACQUIRE) && getpid() == owner;
}

void el_textw_hand(ElVcpu *v)
{
    pthread_mutex_lock(&q_lock);
    v->queued = true;
    v->qnext = NULL;
    if (q_tail) {
        q_tail->qnext = v;
    } else {
        q_head = v;
    }
    q_tail = v;
    pthread_cond_signal(&q_work);
    pthread_mutex_unlock(&q_lock);
}

void el_textw_wait(ElVcpu *v)
{
    if (!el_textw_running()) {
        return;
    }
    pthread_mutex_lock(&q_lock);
    while (v->queued) {
        pthread_cond_wait(&q_done, &q_lock);
    }
    pthread_mutex_unlock(&q_lock);
}

void el_textw_stop(void)
{
    if (!el_textw_running()) {
        return;
    }
    pthread_mutex_lock(&q_lock);
    closing = true;
    pthread_cond_signal(&q_work);
    pthread_mutex_unlock(&q_lock);
    pthread_join(thread, NULL);
    __atomic_store_n(&running, false, __ATOMIC_RELEASE);
}
